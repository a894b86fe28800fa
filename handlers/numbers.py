"""`numbers`: Numbers Management search and export."""
from __future__ import annotations

import tempfile

from handlers.base import Reply, ReplyFile
from handlers.registry import Args, Command, Context
from handlers.render import fit_lines
from handlers.upload import progress_of
from provisioning.numbers_export import export_to
from provisioning.numbers_management import NumbersFound, search
from provisioning.text import MAX_MESSAGE_BYTES, NAME_LIMIT, counted, literal

SHOWN = 15
EXPORT_NAME = "numbers-export.csv"


def run(ctx: Context, args: Args) -> Reply:
    query = " ".join(args.positional)
    found = search(ctx.services.db, ctx.actor, query, first=SHOWN)
    if not found.total:
        return Reply(f"No numbers match {literal(query)} in tenant {literal(ctx.actor.tenant_name, NAME_LIMIT)}.")
    lines, listed = _lines(query, found)
    files = (ReplyFile(EXPORT_NAME, _export(ctx, query, found.total)),) if found.total > listed else ()
    return Reply("\n".join(lines), files=files)


def _export(ctx: Context, query: str, total: int):
    """The export in an anonymous temporary file (deleted when closed or collected), never whole in memory."""
    out = tempfile.TemporaryFile(prefix="leadsbot-export-")  # noqa: SIM115 (handed to the reply)
    export_to(ctx.services.db, ctx.actor, query, out, progress_of(ctx), total)
    return out


def _lines(query: str, found: NumbersFound) -> tuple[list[str], int]:
    """The reply's lines, within one message, and how many numbers they list (the rest go to the export)."""
    head = [f"**Numbers matching {literal(query)}**: {found.total:,}"]
    by_service = []
    for item in found.services:
        states = ", ".join(f"{state} {count:,}" for state, count in sorted(item.by_state.items()))
        by_service.append(f"- {literal(item.service, NAME_LIMIT)} ({literal(item.customer, NAME_LIMIT)}): "
                          f"{item.total:,} — {states}")
    lines, _ = fit_lines(head, by_service, lambda left: f"- …and {counted(left, 'more service')}",
                         limit=MAX_MESSAGE_BYTES // 2)
    lines += ["", "First numbers:" if found.total > SHOWN else "Numbers:"]
    first = [f"- `{e164}` {literal(service, NAME_LIMIT)} · {number_type} · {state}"
             for e164, service, number_type, state in found.first]
    return fit_lines(lines, first, lambda _: f"…the full list of {found.total:,} is in `{EXPORT_NAME}`.",
                     total=found.total, limit=MAX_MESSAGE_BYTES - 200)


COMMAND = Command(
    name="numbers",
    usage="numbers QUERY",
    summary="Numbers Management: find numbers by customer, service or number prefix; full list as CSV",
    examples=("numbers Pizzeria Roma", "numbers roma-cc", "numbers +3902"),
    run=run,
)
