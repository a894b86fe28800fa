"""What every handler receives and returns; the transports (Webex, shell, tests) build these."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from provisioning.services import Services

__all__ = ["Attachment", "Reply", "ReplyFile", "Request", "Services"]


@dataclass(frozen=True)
class ReplyFile:
    """A file the bot sends back (template, invalid-rows report, numbers export)."""

    name: str
    data: bytes
    content_type: str = "text/csv"


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
