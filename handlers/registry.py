"""Commands and their registry: each command declares its usage, summary and examples beside
its code (`COMMAND` in its module), and `handlers.commands` lists them in help order.

`help`, wrong-argument usage and the unknown-command reply all render from the registry, so
help is written in one place only.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable

from handlers.base import Reply, Request, Services
from provisioning.directory import Actor
from provisioning.errors import UserError
from provisioning.text import shown

_OPTION = re.compile(r"^([A-Za-z_]+)=(.*)$", re.S)


class UsageError(UserError):
    """Wrong arguments: answered with the message plus the command's usage."""


@dataclass(frozen=True)
class Args:
    positional: tuple[str, ...]
    options: dict[str, str]

    def one(self, what: str) -> str:
        if not self.positional:
            raise UsageError(f"Missing {what}.")
        return self.positional[0]


@dataclass
class Context:
    """Everything a handler may use: the wiring, the request, the registry (for `help`) and, when
    resolved, the acting operator."""

    services: Services
    request: Request
    registry: Registry
    actor: Actor | None = None


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    run: Callable[[Context, Args], Reply]
    examples: tuple[str, ...] = ()
    options: tuple[str, ...] = ()
    admin_only: bool = False
    needs_tenant: bool = True
    details: str = ""


class Registry:
    """The commands in help order, found by name."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self.ordered: tuple[Command, ...] = tuple(commands)
        self.commands: dict[str, Command] = {command.name: command for command in self.ordered}
        if len(self.commands) != len(self.ordered):
            raise ValueError("two commands share a name")

    def get(self, name: str) -> Command | None:
        return self.commands.get(name.lower())


def split_words(text: str) -> list[str]:
    """Shell-like words, so `info="Agents floor 2"` stays one argument."""
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise UsageError(f"I could not read that line ({exc}): check the quotes.") from None


def is_option(word: str) -> bool:
    """Whether a word is a `k=v` option."""
    return _OPTION.match(word) is not None


def parse_args(cmd: Command, words: list[str]) -> Args:
    """`k=v` options in any order among positional words; unknown options are errors."""
    positional: list[str] = []
    options: dict[str, str] = {}
    for word in words:
        match = _OPTION.match(word)
        if match and cmd.options:
            key = match.group(1).lower()
            if key not in cmd.options:
                known = ", ".join(f"{o}=" for o in cmd.options)
                raise UsageError(f"Unknown option `{shown(key, 40)}=`. Known options: {known}.")
            if key in options:
                raise UsageError(f"Option `{key}=` is given twice.")
            options[key] = match.group(2)
        else:
            positional.append(word)
    return Args(tuple(positional), options)


def usage_text(cmd: Command) -> str:
    lines = [f"**{cmd.name}** — {cmd.summary}", f"Usage: `{cmd.usage}`"]
    if cmd.details:
        lines.append(cmd.details)
    if cmd.examples:
        lines.append("Examples:")
        lines.extend(f"- `{example}`" for example in cmd.examples)
    return "\n".join(lines)
