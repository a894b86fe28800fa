"""Releasing numbers in tests through the real preview and submit (no chat needed)."""
from __future__ import annotations

from sqlalchemy import select

from provisioning.directory import Actor
from provisioning.numbers.validation import RawEntry
from provisioning.releases.previews import release_preview
from provisioning.settings import Settings
from provisioning.uploads.submission import submit
from store.models import Membership, Operator, Service, Tenant


def milan(count: int, start: int = 12000000) -> list[str]:
    """`count` valid Milan numbers (the previews validate them like uploads do)."""
    return [f"+3902{start + i:08d}" for i in range(count)]


def actor_for(db, email: str = "ops@acme.example", tenant: str = "Acme SP") -> Actor:
    with db.sessions.begin() as session:
        owner = session.scalar(select(Tenant).where(Tenant.name == tenant))
        person = session.scalar(select(Operator).where(Operator.email == email))
        if person is None:
            person = Operator(email=email, current_tenant_id=owner.id)
            session.add(person)
            session.flush()
        if session.get(Membership, (person.id, owner.id)) is None:
            session.add(Membership(operator_id=person.id, tenant_id=owner.id, role="operator"))
        return Actor(person.id, email, owner.id, owner.name, "operator")


def release(db, service_id: int, numbers: list[str], *, room: str = "room-ops", settings: Settings = Settings()):
    """Preview and submit a release of `numbers` from the service; returns the ReleaseOutcome."""
    with db.sessions() as session:
        name = session.get(Service, service_id).name
    actor = actor_for(db)
    entries = [RawEntry(i, n, "") for i, n in enumerate(numbers, start=1)]
    done = release_preview(db, actor, room, name, lambda: entries, settings, source="typed")
    return submit(db, actor, room, done.summary.upload_id, settings=settings)
