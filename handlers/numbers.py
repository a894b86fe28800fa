"""`numbers`: Numbers Management search and export."""
from __future__ import annotations

from handlers.base import Reply, ReplyFile
from handlers.registry import Args, Context, command
from handlers.render import MAX_REPLY_BYTES, fit_lines
from provisioning.errors import shown
from provisioning.numbers_search import EXPORT_HEADER, NumbersFound, export, search
from provisioning.spreadsheets import csv_bytes

SHOWN = 15
EXPORT_NAME = "numbers-export.csv"


@command(
    name="numbers",
    usage="numbers QUERY",
    summary="Numbers Management: find numbers by customer, service or number prefix; full list as CSV",
    examples=("numbers Pizzeria Roma", "numbers roma-cc", "numbers +3902"),
)
def numbers(ctx: Context, args: Args) -> Reply:
    query = " ".join(args.positional)
    with ctx.services.db.sessions.begin() as session:
        found = search(session, ctx.actor, query, first=SHOWN)
        lines, listed = _lines(query, found)
        export_file = csv_bytes(EXPORT_HEADER, export(session, ctx.actor, query)) if found.total > listed else None
    if not found.total:
        return Reply(f"No numbers match `{shown(query)}` in tenant {ctx.actor.tenant_name}.")
    files = (ReplyFile(EXPORT_NAME, export_file),) if export_file is not None else ()
    return Reply("\n".join(lines), files=files)


def _lines(query: str, found: NumbersFound) -> tuple[list[str], int]:
    """The reply's lines, within one message, and how many numbers they list (the rest go to the export)."""
    head = [f"**Numbers matching `{shown(query)}`**: {found.total}"]
    by_service = []
    for item in found.services:
        states = ", ".join(f"{state} {count}" for state, count in sorted(item.by_state.items()))
        by_service.append(f"- {item.service} ({item.customer}): {item.total} — {states}")
    lines, _ = fit_lines(head, by_service, lambda left: f"- …and {left} more services", limit=MAX_REPLY_BYTES // 2)
    lines += ["", "First numbers:" if found.total > SHOWN else "Numbers:"]
    first = [f"- `{e164}` {service} · {number_type} · {state}" for e164, service, number_type, state in found.first]
    return fit_lines(lines, first, lambda _: f"…the full list of {found.total} is in `{EXPORT_NAME}`.",
                     total=found.total, limit=MAX_REPLY_BYTES - 200)
