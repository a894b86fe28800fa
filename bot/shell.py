"""`leadsbot shell`: chat with the bot in a terminal, through the same handlers as Webex.

One space per operator (`shell:EMAIL`), so a preview made in one run can be submitted in the next.
Files the bot returns are written to a folder; attachments are given as `file=PATH` or `< PATH`.
"""
from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Callable, TextIO

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

    def __init__(self, services: Services, email: str, files_dir: Path, out: TextIO | None = None,
                 progress_out: TextIO | None = None, after_each: Callable[[], object] | None = None):
        self.services = services
        self.email = email.strip().lower()
        self.files_dir = files_dir
        self.out = out or sys.stdout
        self.progress = ProgressLine(progress_out) if progress_out is not None else None
        self.after_each = after_each  # `--demo`: the simulated customer Webex takes its turn

    def say(self, line: str) -> Reply:
        text, attachments = split_attachments(line)
        request = Request(email=self.email, room_id=shell_room(self.email), text=text, attachments=attachments,
                          progress=self.progress)
        try:
            return dispatch(self.services, request)
        finally:
            if self.progress is not None:
                self.progress.end()

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
        """Read commands until end of input, `quit` or Ctrl-C (which ends the shell cleanly)."""
        interactive = lines.isatty()
        read = _line_editor() if interactive and lines is sys.stdin else lines.readline
        try:
            while True:
                line = read()
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
                if self.after_each is not None:
                    self.after_each()
        except KeyboardInterrupt:
            print("\nInterrupted: nothing half-done was stored (each command is all or nothing). Bye.",
                  file=self.out)


class ProgressLine:
    """The shell's progress sink: one line on a terminal, rewritten in place, cleared at the end."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.shown = False

    def __call__(self, text: str) -> None:
        print(f"\r\x1b[K{text}", end="", file=self.out, flush=True)
        self.shown = True

    def end(self) -> None:
        if self.shown:
            print("\r\x1b[K", end="", file=self.out, flush=True)
            self.shown = False


HISTORY = Path("~/.leadsbot_history")


def _line_editor() -> Callable[[], str]:
    """`input` with readline's line editing and a history kept between runs (a terminal only)."""
    try:
        import readline
    except ImportError:  # not on every platform: plain input still works
        readline = None
    history = HISTORY.expanduser()
    if readline is not None:
        try:
            readline.read_history_file(history)
        except OSError:
            pass
        readline.set_history_length(1000)

    def read() -> str:
        try:
            line = input("leadsbot> ")
        except EOFError:
            print()
            return ""
        if readline is not None:
            try:
                readline.write_history_file(history)
            except OSError:
                pass
        return line + "\n"

    return read
