"""What every handler receives and returns; the transports (Webex, shell, tests) build these."""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from provisioning.services import Services

__all__ = ["Attachment", "Reply", "ReplyFile", "Request", "Services"]

CHUNK = 1 << 20


@dataclass(frozen=True)
class ReplyFile:
    """A file the bot sends back (template, invalid-rows report, numbers export).

    `body` is bytes, or for a large file (a million-number export) an open temporary file the
    transport copies from, so the file never sits in memory whole.
    """

    name: str
    body: bytes | BinaryIO
    content_type: str = "text/csv"

    @property
    def data(self) -> bytes:
        """The whole content (small files, tests); transports use `save`."""
        if isinstance(self.body, bytes):
            return self.body
        self.body.seek(0)
        return self.body.read()

    def save(self, path: Path) -> None:
        """Write the file to `path`, streamed."""
        if isinstance(self.body, bytes):
            path.write_bytes(self.body)
            return
        self.body.seek(0)
        with path.open("wb") as target:
            shutil.copyfileobj(self.body, target, CHUNK)


@dataclass(frozen=True)
class Reply:
    """A Markdown reply, optionally with an Adaptive Card and files. Handlers never send it themselves."""

    markdown: str
    card: dict | None = None
    files: tuple[ReplyFile, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """A file attached to the operator's message; `fetch` downloads it (size-checked) on demand."""

    name: str
    fetch: Callable[[], bytes]
    size: int | None = None


@dataclass(frozen=True)
class Request:
    """One operator action: a command line, optionally with attachments or a card's inputs."""

    email: str
    room_id: str
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    card_inputs: dict | None = None
    room_type: str = "direct"
    message_id: str | None = None
    parent_id: str | None = None
    meta: dict = field(default_factory=dict)
    progress: Callable[[str], None] | None = None  # where long work reports how far it got (SPEC §4)
