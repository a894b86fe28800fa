"""`tenant`: show or switch the SP tenant the operator works in."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context
from provisioning.access import switch_tenant, tenants_of
from provisioning.text import NAME_LIMIT, literal


def run(ctx: Context, args: Args) -> Reply:
    request = ctx.request
    db = ctx.services.db
    if args.positional:
        actor = switch_tenant(db, request.email, " ".join(args.positional), request.room_id)
        return Reply(f"You now work in tenant **{literal(actor.tenant_name, NAME_LIMIT)}** (role {actor.role}).")
    tenants = tenants_of(db, request.email)
    lines = ["Your tenants:"]
    lines.extend(f"- **{literal(t.name, NAME_LIMIT)}** ({t.role}){' ← current' if t.current else ''}" for t in tenants)
    if not any(t.current for t in tenants):
        lines.append("No tenant chosen yet: `tenant NAME` picks one.")
    return Reply("\n".join(lines))


COMMAND = Command(
    name="tenant",
    usage="tenant [NAME]",
    summary="show your tenants and the current one, or switch to NAME",
    examples=("tenant", "tenant Acme SP"),
    needs_tenant=False,
    run=run,
)
