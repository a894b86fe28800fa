"""`status`: one service's status, its numbers by sync state, the last error and recent uploads."""
from __future__ import annotations

from handlers.base import Reply
from handlers.registry import Args, Command, Context
from handlers.render import when
from provisioning.leads.listing import service_report
from provisioning.sync.states import SYNC_STATES
from provisioning.text import NAME_LIMIT, counted, literal, shown


def run(ctx: Context, args: Args) -> Reply:
    report = service_report(ctx.services.db, ctx.actor, args.one("the SERVICE name"))
    lead = report.lead
    total = sum(lead.counts.values())
    states = ", ".join(f"{state} {lead.counts.get(state, 0):,}" for state in SYNC_STATES)
    lines = [
        f"**{literal(lead.service, NAME_LIMIT)}** ({literal(lead.customer, NAME_LIMIT)}) — **{lead.status.label}**",
        f"- {lead.product}, {lead.mode}; org {literal(lead.org_id, NAME_LIMIT)}, "
        f"location {literal(lead.location_id, NAME_LIMIT)} ({lead.country})",
        f"- Numbers: {total:,} ({states})",
        f"- Last error: {shown(report.last_error, 1000) if report.last_error else 'none'}",
        f"- Consented {when(lead.consented_on)}; last modified {when(lead.last_modified)}",
    ]
    if not ctx.services.settings.sync_configured:
        lines.append("- Sync with Webex is not configured (no Service App or partner token): "
                     "consent comes from the inventory and nothing is pushed")
    if report.recent_uploads:
        lines.append("Recent uploads:")
        for upload in report.recent_uploads:
            ready_note = f", Ready notified {when(upload.ready_notified_at)}" if upload.ready_notified_at else ""
            state = "expired" if upload.state == "expiring" else upload.state  # its rows are being deleted
            lines.append(f"- #{upload.upload_id} {state}: {counted(upload.valid, 'number')}, "
                         f"{when(upload.created_at)}{ready_note}")
    return Reply("\n".join(lines))


COMMAND = Command(
    name="status",
    usage="status SERVICE",
    summary="a service's status, its numbers by sync state, the last error and recent uploads",
    examples=("status roma-cc",),
    run=run,
)
