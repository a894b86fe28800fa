"""One entry point for every transport: a Request in, a Reply out, never an exception."""
from __future__ import annotations

import difflib
import logging
import uuid

from handlers.base import Reply, Request, Services
from handlers.commands import REGISTRY
from handlers.registry import Args, Command, Context, UsageError, parse_args, split_words, usage_text
from handlers.upload import UPLOAD_OPTIONS
from provisioning.access import authorize, record_refusal, require_operator
from provisioning.directory import AccessDenied
from provisioning.errors import UserError, database_outage
from provisioning.text import literal

log = logging.getLogger(__name__)


def _card_command(inputs: dict) -> tuple[str, Args]:
    """Adaptive Card submits carry an `action`; they run the same commands as typed text."""
    action = str(inputs.get("action", "")).lower()
    if action in ("submit", "cancel"):
        upload_id = str(inputs.get("upload_id", "")).strip()
        return action, Args((upload_id,) if upload_id else (), {})
    if action == "upload":
        entry = str(inputs.get("number", "")).strip()
        range_end = str(inputs.get("range_end", "")).strip()
        if inputs.get("entry_mode") == "range" and range_end:
            entry = f"{entry}-{range_end}"
        options = {key: str(inputs[key]) for key in UPLOAD_OPTIONS if inputs.get(key) not in (None, "")}
        positional = tuple(p for p in (str(inputs.get("service", "")), entry) if p)
        return "upload", Args(positional, {**options, "source": "card"})
    raise UsageError(f"This card action ({literal(action)}) is not one I know. Type `help` for what I can do.")


def _authorize(services: Services, request: Request, cmd: Command) -> Context:
    """The handler's context with the acting operator resolved (AccessDenied when they may not act)."""
    detail = request.text or str(request.card_inputs)
    actor = authorize(services.db, request.email, request.room_id, cmd.name, detail,
                      needs_tenant=cmd.needs_tenant, admin_only=cmd.admin_only)
    return Context(services, request, REGISTRY, actor)


def _has_nul(request: Request) -> bool:
    """PostgreSQL text can't hold NUL, and no chat client types one: such a message is refused whole."""
    inputs = request.card_inputs or {}
    texts = [request.text or "", *map(str, inputs.keys()), *map(str, inputs.values()),
             *(attachment.name for attachment in request.attachments)]
    return any("\x00" in text for text in texts)


def did_you_mean(word: str) -> str | None:
    """The command a mistyped word most likely meant (`uplaod` -> `upload`, `lead` -> `leads`), if any."""
    close = difflib.get_close_matches(word.lower()[:40], list(REGISTRY.commands), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_command(word: str) -> Reply:
    names = ", ".join(f"`{name}`" for name in sorted(REGISTRY.commands))
    guess = did_you_mean(word)
    hint = f" Did you mean `{guess}`?" if guess else ""
    return Reply(f"I don't know the command {literal(word)}.{hint} I can do: {names}.\n"
                 "Type `help` for details and examples.")


def dispatch(services: Services, request: Request) -> Reply:
    """Run the command a message or card asks for and return what to answer.

    Whether the sender is an operator at all is decided first: a stranger gets one fixed refusal
    (audited) whatever they sent, so nothing they wrote is ever echoed or parsed.
    """
    cmd: Command | None = None
    try:
        require_operator(services.db, request.email)
        if _has_nul(request):
            return Reply("Your message contains a NUL character (U+0000), which I can't read: retype it as plain text.")
        if request.card_inputs is not None:
            name, args = _card_command(request.card_inputs)
            cmd = REGISTRY.get(name)
        else:
            words = split_words(request.text)
            if not words:
                words = ["help"]
            cmd = REGISTRY.get(words[0])
            if cmd is None:
                return unknown_command(words[0])
            args = None
        context = _authorize(services, request, cmd)
        if args is None:
            args = parse_args(cmd, words[1:])
        return cmd.run(context, args)
    except AccessDenied as exc:  # before or while the command ran: kept in the audit log either way
        what = cmd.name if cmd else ("card" if request.card_inputs is not None else "message")
        record_refusal(services.db, request.email, request.room_id, what, exc.message)
        return Reply(exc.message)
    except UsageError as exc:
        return Reply(f"{exc.message}\n\n{usage_text(cmd)}" if cmd else exc.message)
    except UserError as exc:
        return Reply(exc.message)
    except Exception as exc:
        reference = uuid.uuid4().hex[:8]
        outage = database_outage(exc)
        if outage is not None:  # the transaction was rolled back
            log.error("database unavailable (reference %s): %s", reference, outage)
            return Reply("Sorry, I can't reach my database right now, so nothing was changed. Please try again in a "
                         f"minute; if it keeps failing, give an admin the reference `{reference}`.")
        log.exception("command failed (reference %s)", reference)
        return Reply(f"Sorry, something went wrong on my side and nothing was changed. "
                     f"Please try again; if it keeps failing, give an admin the reference `{reference}`.")
