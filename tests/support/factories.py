"""Test data for sync tests, written straight through the models (no upload flow needed)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from store.models import (
    CallingProfile,
    Customer,
    Number,
    Operator,
    Service,
    SipConnection,
    SyncTask,
    Tenant,
    Upload,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def e164s(count: int, start: int = 200000000, prefix: str = "+3902") -> list[str]:
    """`count` distinct E.164-shaped numbers (validity does not matter to the engine)."""
    return [f"{prefix}{start + i:09d}" for i in range(count)]


def _one(session: Session, model, **match):
    found = session.scalar(select(model).filter_by(**match))
    if found is None:
        found = model(**match)
        session.add(found)
        session.flush()
    return found


def make_tenant(session: Session, name: str = "Acme SP") -> Tenant:
    return _one(session, Tenant, name=name)


def make_service(
    session: Session,
    name: str = "roma-cc",
    *,
    tenant: str = "Acme SP",
    customer: str = "Pizzeria Roma S.p.A.",
    mode: str = "integrated",
    product: str = "webex-cloud-connect",
    org_id: str = "ORG-ROMA",
    location_id: str = "LOC-MILAN",
    consented: bool = True,
    removing: bool = False,
) -> Service:
    owner = make_tenant(session, tenant)
    client = _one(session, Customer, tenant_id=owner.id, name=customer)
    service = Service(
        tenant_id=owner.id, customer_id=client.id, name=name, channel="Webex CC Channel",
        product=product, mode=mode, org_id=org_id, location_id=location_id, country="IT",
        consented_on=T0 if consented else None, removing=removing, last_modified=T0,
    )
    session.add(service)
    session.flush()
    return service


def make_upload(
    session: Session,
    service: Service,
    numbers: list[str],
    *,
    number_type: str = "contact-center",
    room_id: str = "room-ops",
    operator: str = "ops@acme.example",
    with_task: bool = True,
    now: datetime = T0,
) -> Upload:
    """A submitted upload with its numbers (pending) and its sync task, as submit leaves them."""
    person = _one(session, Operator, email=operator)
    profile = session.scalar(select(CallingProfile).filter_by(tenant_id=service.tenant_id))
    if profile is None:
        profile = CallingProfile(tenant_id=service.tenant_id, name="CC-Default", sbc_device="sbc-eu-1")
        session.add(profile)
    sip = _one(session, SipConnection, tenant_id=service.tenant_id, name="PSTN-Milan")
    session.flush()
    upload = Upload(
        tenant_id=service.tenant_id, service_id=service.id, operator_id=person.id, room_id=room_id,
        source="range", number_type=number_type, calling_profile_id=profile.id,
        sip_connection_id=sip.id, entries=len(numbers), valid_count=len(numbers),
        state="submitted", created_at=now, submitted_at=now,
    )
    session.add(upload)
    session.flush()
    if numbers:
        session.execute(insert(Number), [
            {"e164": n, "service_id": service.id, "upload_id": upload.id, "number_type": number_type,
             "sync_state": "pending", "created_at": now}
            for n in numbers
        ])
    if with_task:
        session.add(SyncTask(upload_id=upload.id, service_id=service.id, state="pending", next_run_at=now))
    session.flush()
    return upload


def seed(db, numbers: list[str], **service_options) -> tuple[int, int]:
    """One service with one submitted upload of `numbers`; returns (service_id, upload_id)."""
    number_type = service_options.pop("number_type", "contact-center")
    room_id = service_options.pop("room_id", "room-ops")
    with db.sessions.begin() as session:
        service = make_service(session, **service_options)
        upload = make_upload(session, service, numbers, number_type=number_type, room_id=room_id)
        return service.id, upload.id
