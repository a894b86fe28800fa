"""`usage`: metering for a month: numbers by type and service info, CAC, peak, number-days."""
from __future__ import annotations

from datetime import datetime, timezone

from handlers.base import Reply, ReplyFile
from handlers.registry import Args, Command, Context, UsageError
from handlers.render import fit_lines
from provisioning.metering.usage import ServiceUsage, UsageReport, tenant_usage, usage_csv
from provisioning.text import NAME_LIMIT, literal


def _days(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _service_line(item: ServiceUsage) -> str:
    types = ", ".join(f"{kind} {count:,}" for kind, count in item.by("number_type").items())
    infos = ", ".join(f"{literal(info, 60) if info else '(no info)'} {count:,}"
                      for info, count in sorted(item.by("service_info").items()))
    return (f"- **{literal(item.service, NAME_LIMIT)}** ({literal(item.customer, NAME_LIMIT)}): "
            f"{item.numbers:,} numbers ({types}), peak {item.peak:,}, CAC {item.cac:,}, "
            f"**{_days(item.number_days)}** number-days; service info: {infos}")


def reply_for(report: UsageReport, scope: str) -> list[str]:
    label = report.month.label
    until = "" if report.until >= report.month.end else f", until {report.until:%Y-%m-%d %H:%M} UTC"
    head = [f"**Usage of {scope} in {label}** (UTC{until})"]
    if not report.services:
        return [*head, f"No numbers were live in {scope} in {label}: nothing to meter."]
    total = sum(s.number_days for s in report.services)
    head.append(f"{len(report.services):,} service{'s' if len(report.services) != 1 else ''}, "
                f"{_days(total)} number-days in total.")
    lines, _ = fit_lines(head, [_service_line(s) for s in report.services],
                         lambda left: f"…and {left:,} more services: every one is in the CSV.")
    return lines


def run(ctx: Context, args: Args) -> Reply:
    if len(args.positional) > 1:
        raise UsageError("`usage` takes at most one SERVICE (and month=YYYY-MM).")
    service_name = args.positional[0] if args.positional else None
    now = datetime.now(timezone.utc)
    report = tenant_usage(ctx.services.db, ctx.actor, service_name, args.options.get("month"), now)
    scope = (literal(report.services[0].service, NAME_LIMIT) if service_name and report.services
             else literal(service_name, NAME_LIMIT) if service_name
             else f"tenant {literal(ctx.actor.tenant_name, NAME_LIMIT)}")
    lines = reply_for(report, scope)
    files: tuple[ReplyFile, ...] = ()
    if report.services:
        per_number = service_name is not None
        name = (f"usage-{report.services[0].service}-{report.month.label}.csv" if per_number
                else f"usage-{report.month.label}.csv")
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        files = (ReplyFile(name, usage_csv(ctx.services.db, ctx.actor, report, now, per_number=per_number)),)
        lines.append(f"Full table in `{name}`" + (" (one row per number)." if per_number else
                                                  " (one row per service and service info)."))
    return Reply("\n".join(lines), files=files)


COMMAND = Command(
    name="usage",
    usage="usage [SERVICE] [month=YYYY-MM]",
    summary="metering: numbers by type and service info, CAC, peak and number-days live in a month (CSV too)",
    options=("month",),
    examples=("usage", "usage month=2026-11", "usage roma-cc month=2026-10"),
    details="The month is UTC and defaults to the current one (counted until now). Number-days: the time each "
            "number was live in the month, in days; a number live part of the month counts only those days.",
    run=run,
)
