"""`leads` and `status`: what the Customer Leads page shows."""
from __future__ import annotations

from datetime import datetime

from handlers.base import Reply
from handlers.registry import Args, Context, command
from handlers.render import fit_lines
from provisioning.errors import shown
from provisioning.leads import list_leads, service_report
from store.models import SYNC_STATES

SHOWN = 40


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@command(
    name="leads",
    usage="leads [TEXT]",
    summary="list the tenant's services (customer leads) with status; TEXT filters by service, customer, channel or org",
    examples=("leads", "leads roma"),
)
def leads(ctx: Context, args: Args) -> Reply:
    text = " ".join(args.positional)
    with ctx.services.db.sessions.begin() as session:
        found, total = list_leads(session, ctx.actor, text)
    if not found:
        scope = f" matching `{shown(text)}`" if text else ""
        return Reply(f"No services{scope} in tenant {ctx.actor.tenant_name}.")
    head = [f"**Customer leads — {ctx.actor.tenant_name}** ({total} service{'s' if total != 1 else ''})"]
    items = [
        f"- **{lead.customer}** · service `{lead.service}` · channel {lead.channel or '—'}"
        f" · **{lead.status}** · org `{lead.org_id}` · consented {when(lead.consented_on)}"
        f" · modified {when(lead.last_modified)}"
        for lead in found[:SHOWN]
    ]
    lines, _ = fit_lines(head, items, lambda left: f"…and {left} more: narrow it with `leads TEXT`.", total=total)
    return Reply("\n".join(lines))


@command(
    name="status",
    usage="status SERVICE",
    summary="a service's status, its numbers by sync state, the last error and recent uploads",
    examples=("status roma-cc",),
)
def status(ctx: Context, args: Args) -> Reply:
    with ctx.services.db.sessions.begin() as session:
        report = service_report(session, ctx.actor, args.one("the SERVICE name"))
        uploads = [(u.id, u.state, u.valid_count, u.created_at, u.ready_notified_at) for u in report.recent_uploads]
    lead = report.lead
    total = sum(lead.counts.values())
    states = ", ".join(f"{state} {lead.counts.get(state, 0)}" for state in SYNC_STATES)
    lines = [
        f"**{lead.service}** ({lead.customer}) — **{lead.status.label}**",
        f"- {lead.product}, {lead.mode}; org `{lead.org_id}`, location `{lead.location_id}` ({lead.country})",
        f"- Numbers: {total} ({states})",
        f"- Last error: {shown(report.last_error, 1000) if report.last_error else 'none'}",
        f"- Consented {when(lead.consented_on)}; last modified {when(lead.last_modified)}",
    ]
    if uploads:
        lines.append("Recent uploads:")
        for upload_id, state, valid, created, ready in uploads:
            ready_note = f", Ready notified {when(ready)}" if ready else ""
            lines.append(f"- #{upload_id} {state}: {valid} numbers, {when(created)}{ready_note}")
    return Reply("\n".join(lines))
