"""`leadsbot shell`: chat with the bot in a terminal, through the same handlers as Webex.

One space per operator (`shell:EMAIL`), so a preview made in one run can be submitted in the next.
Files the bot returns are written to a folder; attachments are given as `file=PATH` or `< PATH`.
"""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import TextIO

from handlers import Attachment, Reply, Request, Services, dispatch
from provisioning.errors import UserError
from provisioning.text import literal

_REDIRECT = re.compile(r"\s<\s*(\S+)\s*$")
_FILE_OPTION = re.compile(r"^file=(.+)$", re.S)


def shell_room(email: str) -> str:
    return f"shell:{email.strip().lower()}"


def _file_attachment(path_text: str) -> Attachment:
    path = Path(path_text).expanduser()

    def fetch() -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise UserError(f"I can't read {literal(path_text, 200)}: {exc.strerror}.") from None

    size = path.stat().st_size if path.is_file() else None
    return Attachment(path.name, fetch, size)


def split_attachments(line: str) -> tuple[str, tuple[Attachment, ...]]:
    """Take `file=PATH` words and a trailing `< PATH` out of the line as attachments."""
    attachments: list[Attachment] = []
    redirect = _REDIRECT.search(line)
    if redirect:
        attachments.append(_file_attachment(redirect.group(1)))
        line = line[:redirect.start()]
    try:
        words = shlex.split(line)
    except ValueError:
        return line, tuple(attachments)
    kept = []
    for word in words:
        match = _FILE_OPTION.match(word)
        if match:
            attachments.append(_file_attachment(match.group(1)))
        else:
            kept.append(word)
    return (shlex.join(kept) if len(kept) != len(words) else line), tuple(attachments)


class Shell:
    """A line-oriented chat: one command per line, each reply printed as the bot would post it."""

    def __init__(self, services: Services, email: str, files_dir: Path, out: TextIO | None = None):
        self.services = services
        self.email = email.strip().lower()
        self.files_dir = files_dir
        self.out = out or sys.stdout

    def say(self, line: str) -> Reply:
        text, attachments = split_attachments(line)
        request = Request(email=self.email, room_id=shell_room(self.email), text=text, attachments=attachments)
        return dispatch(self.services, request)

    def show(self, reply: Reply) -> None:
        print(reply.markdown, file=self.out)
        if reply.card and reply.card.get("kind") == "preview":
            print("[On Webex this preview has Submit and Cancel buttons.]", file=self.out)
        for item in reply.files:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            target = self.files_dir / item.name
            item.save(target)
            print(f"📎 {item.name} written to {target}", file=self.out)
        print(file=self.out)

    def run(self, lines: TextIO) -> None:
        interactive = lines.isatty()
        while True:
            if interactive:
                print("leadsbot> ", end="", file=self.out, flush=True)
            line = lines.readline()
            if not line:
                break
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line in ("quit", "exit"):
                break
            if not interactive:
                print(f"> {line}", file=self.out)
            self.show(self.say(line))
