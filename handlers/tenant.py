"""`tenant`: show or switch the SP tenant the operator works in."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Context, command
from provisioning.directory import audit, find_operator, memberships, switch_tenant


@command(
    name="tenant",
    usage="tenant [NAME]",
    summary="show your tenants and the current one, or switch to NAME",
    examples=("tenant", "tenant Acme SP"),
    needs_tenant=False,
)
def tenant(ctx: Context, args: Args) -> Reply:
    request = ctx.request
    with ctx.services.db.sessions.begin() as session:
        if args.positional:
            actor = switch_tenant(session, request.email, " ".join(args.positional))
            audit(session, actor.email, "tenant.switch", actor.tenant_name, tenant_id=actor.tenant_id,
                  room_id=request.room_id)
            return Reply(f"You now work in tenant **{actor.tenant_name}** (role {actor.role}).")
        operator = find_operator(session, request.email)
        tenants = memberships(session, operator)
        current = operator.current_tenant_id if operator.current_tenant_id else (
            tenants[0][0].id if len(tenants) == 1 else None)
        lines = ["Your tenants:"]
        for item, role in tenants:
            marker = " ← current" if item.id == current else ""
            lines.append(f"- **{item.name}** ({role}){marker}")
        if current is None:
            lines.append("No tenant chosen yet: `tenant NAME` picks one.")
        return Reply("\n".join(lines))
