"""Daily status digests (`digest daily HH:MM`): which are due, what they say, queueing them.

Times are UTC. A subscription is due once its time of day has passed and it has not been
sent today, so a scheduler that was down at 09:00 still sends the 09:00 digest when it
comes back. Sending is a compare-and-set on `last_sent_on` plus a per-day outbox dedupe
key, so two schedulers never send one digest twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from provisioning.audit import audit
from provisioning.directory import Actor
from provisioning.leads.status import STATUS_ORDER, ServiceStatus, status_counts, statuses
from provisioning.outbox import queue_message
from provisioning.text import MAX_MESSAGE_BYTES, NAME_LIMIT, counted, literal
from store.db import Database
from store.models import SYNC_STATES, Customer, DigestSubscription, Service, Tenant, utcnow

MAX_DIGEST_BYTES = MAX_MESSAGE_BYTES - 939  # room for the "…and N more" line and the failures list


def _due(now: datetime):
    return (
        DigestSubscription.time_of_day <= now.strftime("%H:%M"),
        or_(DigestSubscription.last_sent_on.is_(None), DigestSubscription.last_sent_on < now.date()),
    )


def due_digests(session: Session, now: datetime) -> list[DigestSubscription]:
    """Subscriptions whose time of day (UTC) has passed and that were not sent today."""
    return list(session.scalars(select(DigestSubscription).where(*_due(now)).order_by(DigestSubscription.id)))


def _cell(text: str) -> str:
    """A name in a table cell: literal, with the `|` that would end the cell escaped."""
    return literal(text, NAME_LIMIT).replace("|", "\\|")


def build_digest(session: Session, tenant_id: int, now: datetime) -> str:
    """Markdown: the tenant's services grouped by status, with numbers per sync state."""
    tenant = session.get(Tenant, tenant_id)
    rows = session.execute(
        select(Service, Customer.name).join(Customer, Customer.id == Service.customer_id)
        .where(Service.tenant_id == tenant_id)
    ).all()
    title = f"**Daily digest: {literal(tenant.name, NAME_LIMIT)}** ({now:%Y-%m-%d %H:%M} UTC)"
    if not rows:
        return f"{title}\n\nNo services in this tenant yet."
    services = [service for service, _ in rows]
    customers = {service.id: customer for service, customer in rows}
    found = statuses(session, services)
    counts = status_counts(session, found)
    order = {label: i for i, label in enumerate(STATUS_ORDER)}
    services.sort(key=lambda s: (order.get(found[s.id].label, len(order)), s.name.lower()))

    summary = " · ".join(
        f"{label} {n}" for label in STATUS_ORDER
        if (n := sum(1 for s in services if found[s.id].label == label))
    )
    lines = [title, "", summary, "",
             "| Status | Service | Customer | Pending | Pushed | Live | Failed |",
             "|---|---|---|---:|---:|---:|---:|"]
    reasons: list[str] = []
    size = sum(len(line.encode()) + 1 for line in lines)
    for shown, service in enumerate(services):
        status: ServiceStatus = found[service.id]
        n = counts[service.id]
        row = (f"| {status.label} | {_cell(service.name)} | {_cell(customers[service.id])} | "
               + " | ".join(f"{n[state]:,}" for state in SYNC_STATES) + " |")
        reason = (f"- {literal(service.name, NAME_LIMIT)}: {' '.join(status.reason[:200].split())}"
                  if status.reason else None)
        extra = len(row.encode()) + 1 + (len(reason.encode()) + 1 if reason else 0)
        if size + extra > MAX_DIGEST_BYTES:
            lines.append("")
            lines.append(f"…and {counted(len(services) - shown, 'more service')}; send `leads` for the full list.")
            break
        size += extra
        lines.append(row)
        if reason:
            reasons.append(reason)
    if reasons:
        lines += ["", "**Sync failures**", *reasons]
    return "\n".join(lines)


def _of(actor: Actor, room_id: str):
    """A subscription belongs to (space, tenant): an operator only ever sees their tenant's."""
    return DigestSubscription.room_id == room_id, DigestSubscription.tenant_id == actor.tenant_id


def subscribe(db: Database, actor: Actor, room_id: str, time_of_day: str) -> None:
    """This space gets the operator's tenant's digest every day at `time_of_day` (HH:MM, UTC)."""
    with db.sessions.begin() as session:
        subscription = session.scalar(select(DigestSubscription).where(*_of(actor, room_id)))
        if subscription is None:
            subscription = DigestSubscription(room_id=room_id, tenant_id=actor.tenant_id)
            session.add(subscription)
        subscription.operator_id = actor.operator_id
        subscription.time_of_day = time_of_day
        audit(session, actor.email, "digest.daily", time_of_day, tenant_id=actor.tenant_id, room_id=room_id)


def unsubscribe(db: Database, actor: Actor, room_id: str) -> bool:
    """Stop this space's digest of the operator's tenant (another tenant's stays); False when it had none."""
    with db.sessions.begin() as session:
        removed = session.execute(delete(DigestSubscription).where(*_of(actor, room_id))).rowcount
        audit(session, actor.email, "digest.off", "", tenant_id=actor.tenant_id, room_id=room_id)
    return bool(removed)


def run_digests(db: Database, now: datetime | None = None) -> int:
    """Queue every due digest in the outbox (one per subscription per day); return how many."""
    now = now or utcnow()
    with db.sessions() as session:
        due = [(s.id, s.room_id, s.tenant_id) for s in due_digests(session, now)]
    queued = 0
    for subscription_id, room_id, tenant_id in due:
        with db.sessions.begin() as session:
            won = session.execute(
                update(DigestSubscription)
                .where(DigestSubscription.id == subscription_id, *_due(now))
                .values(last_sent_on=now.date())
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                continue
            markdown = build_digest(session, tenant_id, now)
            queue_message(session, room_id, markdown, f"digest:{subscription_id}:{now.date().isoformat()}", now)
            queued += 1
    return queued
