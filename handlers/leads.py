"""`leads`: the tenant's services, as the Customer Leads page lists them."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context
from handlers.render import fit_lines, when
from provisioning.leads.listing import list_leads
from provisioning.text import NAME_LIMIT, counted, literal

SHOWN = 40


def run(ctx: Context, args: Args) -> Reply:
    text = " ".join(args.positional)
    found, total = list_leads(ctx.services.db, ctx.actor, text)
    if not found:
        scope = f" matching {literal(text)}" if text else ""
        return Reply(f"No services{scope} in tenant {literal(ctx.actor.tenant_name, NAME_LIMIT)}.")
    head = [f"**Customer leads — {literal(ctx.actor.tenant_name, NAME_LIMIT)}** "
            f"({counted(total, 'service')})"]
    items = [
        f"- **{literal(lead.customer, NAME_LIMIT)}** · service {literal(lead.service, NAME_LIMIT)}"
        f" · channel {literal(lead.channel, NAME_LIMIT) if lead.channel else '—'}"
        f" · **{lead.status}** · org {literal(lead.org_id, NAME_LIMIT)} · consented {when(lead.consented_on)}"
        f" · modified {when(lead.last_modified)}"
        for lead in found[:SHOWN]
    ]
    lines, _ = fit_lines(head, items, lambda left: f"…and {left:,} more: narrow it with `leads TEXT`.", total=total)
    return Reply("\n".join(lines))


COMMAND = Command(
    name="leads",
    usage="leads [TEXT]",
    summary="list the tenant's services (customer leads) with status; TEXT filters by service, customer, channel or org",
    examples=("leads", "leads roma"),
    run=run,
)
