"""Customer Leads: the tenant's services with customer, channel, status and dates."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from provisioning import consent
from provisioning.directory import Actor, find_service
from provisioning.leads.status import ServiceStatus, derive_status, last_sync_error, status_counts
from store.db import Database
from store.models import Customer, Service, Upload


@dataclass(frozen=True)
class Lead:
    service: str
    customer: str
    channel: str
    product: str
    mode: str
    status: ServiceStatus
    org_id: str
    location_id: str
    country: str
    consented_on: datetime | None
    last_modified: datetime
    counts: Counter


def list_leads(db: Database, actor: Actor, text: str = "", limit: int = 200) -> tuple[list[Lead], int]:
    """Services where every word of `text` starts a word of the service, customer, channel or
    organization ID (`roma` finds "Pizzeria Roma" and `roma-cc`, not "Fromagerie"); and how many matched."""
    columns = (Service.name, Customer.name, Service.channel, Service.org_id)
    query = select(Service, Customer.name).join(Customer, Customer.id == Service.customer_id).where(
        Service.tenant_id == actor.tenant_id)
    wanted = text.lower().split()
    for word in wanted:  # a cheap superset in SQL; `_matches_words` keeps the word matches
        query = query.where(or_(*(func.lower(column).contains(word, autoescape=True) for column in columns)))
    with db.sessions() as session:
        rows = session.execute(query.order_by(Customer.name, Service.name)).all()
        rows = [(service, customer) for service, customer in rows
                if _matches_words(wanted, (service.name, customer, service.channel, service.org_id))]
        shown = rows[:limit]
        counts = status_counts(session, (service.id for service, _ in shown))
        waiting = consent.awaiting(session, (service.org_id for service, _ in shown))
        return [_lead(service, customer, counts[service.id], service.org_id in waiting)
                for service, customer in shown], len(rows)


def _matches_words(wanted: list[str], fields: tuple[str | None, ...]) -> bool:
    """Whether each wanted word starts a word (after a non-letter, non-digit) in one of the fields."""
    lowered = [(field or "").lower() for field in fields]
    return all(any(re.search(rf"(?<![^\W_]){re.escape(word)}", field) for field in lowered) for word in wanted)


def _lead(service: Service, customer: str, counts: Counter, awaiting_consent: bool = False) -> Lead:
    return Lead(service.name, customer, service.channel, service.product, service.mode,
                derive_status(service, counts, awaiting_consent), service.org_id, service.location_id,
                service.country, service.consented_on, service.last_modified, counts)


@dataclass(frozen=True)
class RecentUpload:
    upload_id: int
    state: str
    valid: int
    created_at: datetime
    ready_notified_at: datetime | None


@dataclass(frozen=True)
class ServiceReport:
    lead: Lead
    last_error: str | None
    recent_uploads: list[RecentUpload]


def service_report(db: Database, actor: Actor, name: str) -> ServiceReport:
    """What `status SERVICE` shows: status, numbers by sync state, last error, latest uploads."""
    with db.sessions() as session:
        service = find_service(session, actor, name)
        customer = session.scalar(select(Customer.name).where(Customer.id == service.customer_id))
        counts = status_counts(session, [service.id])[service.id]
        uploads = session.execute(
            select(Upload.id, Upload.state, Upload.valid_count, Upload.created_at, Upload.ready_notified_at)
            .where(Upload.service_id == service.id).order_by(Upload.id.desc()).limit(5)).all()
        reason = consent.waiting_reason(session, service.org_id)
        return ServiceReport(_lead(service, customer, counts, reason is not None),
                             reason or last_sync_error(session, service.id),
                             [RecentUpload(*row) for row in uploads])
