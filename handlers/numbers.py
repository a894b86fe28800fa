"""`numbers`: Numbers Management search and export."""
from __future__ import annotations

from handlers.base import Reply, ReplyFile
from handlers.registry import Args, Context, command
from provisioning.numbers_search import EXPORT_HEADER, export, search
from provisioning.spreadsheets import csv_bytes

SHOWN = 15


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
        export_file = csv_bytes(EXPORT_HEADER, export(session, ctx.actor, query)) if found.total > SHOWN else None
    if not found.total:
        return Reply(f"No numbers match `{query}` in tenant {ctx.actor.tenant_name}.")
    lines = [f"**Numbers matching `{query}`**: {found.total}"]
    for item in found.services:
        states = ", ".join(f"{state} {count}" for state, count in sorted(item.by_state.items()))
        lines.append(f"- {item.service} ({item.customer}): {item.total} — {states}")
    lines.append("")
    lines.append("First numbers:" if found.total > SHOWN else "Numbers:")
    lines.extend(f"- `{e164}` {service} · {number_type} · {state}" for e164, service, number_type, state in found.first)
    files = ()
    if export_file is not None:
        name = "numbers-export.csv"
        files = (ReplyFile(name, export_file),)
        lines.append(f"…the full list of {found.total} is in `{name}`.")
    return Reply("\n".join(lines), files=files)
