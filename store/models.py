"""SQLAlchemy 2 models: the portal's things (SPEC §1) plus the bot's durable work.

Schema changes go through Alembic (`store/migrations`); these classes are the source of
truth the migrations are written against.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

PRODUCTS = ("webex-cloud-connect", "live-cx")
MODES = ("integrated", "non-integrated")
ROLES = ("operator", "admin")
NUMBER_TYPES = ("user", "service", "contact-center")
SYNC_STATES = ("pending", "pushed", "live", "failed")  # a number's way into Webex, in order
# A released number's way out (SPEC §5.3): `removing` until Webex took the remove (or, for a
# non-integrated service, until the customer removed it), `removed` until the poll stops listing it.
RELEASE_STATES = ("removing", "removed")
NUMBER_STATES = (*SYNC_STATES, *RELEASE_STATES)
UPLOAD_KINDS = ("upload", "release")  # a release is previewed, submitted and cancelled like an upload
# An upload's life: a preview is submitted, cancelled, or left until it expires; an expiring
# preview's staged rows are being deleted (provisioning.uploads.expiry), then it is expired.
UPLOAD_STATES = ("preview", "submitted", "cancelled", "expiring", "expired")
INT_MAX = 2**31 - 1  # the largest value an Integer column (ids, CAC) holds on every database


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on both databases (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class Base(DeclarativeBase):
    pass


# Big integer primary keys on PostgreSQL, but SQLite only auto-increments INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# E.164 text compared byte by byte: PostgreSQL's "C" collation lets a prefix search (LIKE '+3902%')
# and ORDER BY use the btree index, and index upkeep skips locale rules; SQLite compares bytes anyway.
E164 = String(16).with_variant(String(16, collation="C"), "postgresql")


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    memberships: Mapped[list[Membership]] = relationship(back_populates="tenant")


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    current_tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))

    memberships: Mapped[list[Membership]] = relationship(back_populates="operator")
    current_tenant: Mapped[Tenant | None] = relationship()


class Membership(Base):
    """An operator's access to one tenant, with the role they have there."""

    __tablename__ = "memberships"

    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), default="operator")

    operator: Mapped[Operator] = relationship(back_populates="memberships")
    tenant: Mapped[Tenant] = relationship(back_populates="memberships")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class CallingProfile(Base):
    __tablename__ = "calling_profiles"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    sbc_device: Mapped[str] = mapped_column(String(200))


class SipConnection(Base):
    __tablename__ = "sip_connections"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))


class Service(Base):
    """A customer lead: one Webex Cloud Connect or Live CX service of one customer."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(200), default="")
    product: Mapped[str] = mapped_column(String(40))
    mode: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[str] = mapped_column(String(200))
    location_id: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    consented_on: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removing: Mapped[bool] = mapped_column(Boolean, default=False)
    sync_error: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    customer: Mapped[Customer] = relationship()
    tenant: Mapped[Tenant] = relationship()


class Upload(Base):
    """One submission of numbers: a preview until submitted, cancelled or expired (`UPLOAD_STATES`).

    A release (`kind` "release") is the same thing the other way round: its staged numbers are
    those to take out of the service, and it has no calling profile, SIP connection or type.
    """

    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_open", "room_id", "operator_id", "state"),
                      Index("ix_uploads_state_created", "state", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    room_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default="upload", server_default="upload")
    source: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str | None] = mapped_column(String(300))
    number_type: Mapped[str] = mapped_column(String(20))
    cac: Mapped[int | None] = mapped_column(Integer)
    calling_profile_id: Mapped[int | None] = mapped_column(ForeignKey("calling_profiles.id"))
    sip_connection_id: Mapped[int | None] = mapped_column(ForeignKey("sip_connections.id"))
    service_info: Mapped[str] = mapped_column(String(255), default="")
    entries: Mapped[int] = mapped_column(Integer, default=0)
    valid_count: Mapped[int] = mapped_column(Integer, default=0)
    invalid_count: Mapped[int] = mapped_column(Integer, default=0)
    already_count: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_count: Mapped[int] = mapped_column(Integer, default=0)
    released_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # a release's numbers gone
    state: Mapped[str] = mapped_column(String(20), default="preview")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ready_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    service: Mapped[Service] = relationship()
    operator: Mapped[Operator] = relationship()
    calling_profile: Mapped[CallingProfile | None] = relationship()
    sip_connection: Mapped[SipConnection | None] = relationship()


class StagedNumber(Base):
    """A valid number of a previewed upload, waiting for submit (bulk-copied into numbers).

    No foreign key to uploads: a preview writes up to a million rows right after creating its
    upload, and PostgreSQL's per-row key check cost more than the copy itself. Rows are only
    written by the preview that owns the upload, and removed by submit, cancel or expiry.
    """

    __tablename__ = "staged_numbers"
    __table_args__ = {"sqlite_with_rowid": False}  # one b-tree (the key) to write instead of two

    upload_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    e164: Mapped[str] = mapped_column(E164, primary_key=True)
    row: Mapped[int] = mapped_column(Integer)


class InvalidEntry(Base):
    """An entry of an upload that failed validation, kept for the invalid-rows report (no foreign
    key, like `StagedNumber`: a re-upload of a million numbers reports a million rows)."""

    __tablename__ = "invalid_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    upload_id: Mapped[int] = mapped_column(Integer, index=True)
    row: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)


class Number(Base):
    """One E.164 number of a service; unique across every service and tenant.

    Its calling profile, SIP connection, CAC and service info are those of its upload: one
    upload applies one set of options, and keeping them there keeps bulk submits cheap.

    No foreign keys to services and uploads: on PostgreSQL their per-row checks were 5 of the
    8 seconds a million-number submit took. Numbers are written only by submit, from the upload
    it holds locked, for that upload's service; services and uploads are never deleted.
    """

    __tablename__ = "numbers"
    __table_args__ = (Index("ix_numbers_service_state", "service_id", "sync_state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    e164: Mapped[str] = mapped_column(E164, unique=True)
    service_id: Mapped[int] = mapped_column(Integer)
    upload_id: Mapped[int] = mapped_column(Integer, index=True)
    number_type: Mapped[str] = mapped_column(String(20))
    sync_state: Mapped[str] = mapped_column(String(20), default="pending")
    sync_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    live_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    release_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the release taking it out (no key, as above)


class NumberHistory(Base):
    """One stretch of a number being live in a service, for metering (SPEC §1, `usage`).

    Written when the poll first sees the number ACTIVE and closed when it is released; it
    outlives the number row, and a number released and uploaded again has one row per stretch.
    Type, CAC and service info are copied: they are what the stretch is billed on.
    """

    __tablename__ = "number_history"
    __table_args__ = (Index("ix_number_history_tenant_live", "tenant_id", "live_since"),
                      Index("ix_number_history_tenant_released", "tenant_id", "released_at"),
                      # covers the month's aggregate of `usage`, grouped in index order (no sort, no table reads)
                      Index("ix_number_history_usage", "tenant_id", "service_id", "number_type", "service_info",
                            "live_since", "released_at", "cac"),
                      Index("ix_number_history_e164_open", "e164", "released_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    e164: Mapped[str] = mapped_column(E164)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"))
    release_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id", ondelete="SET NULL"))
    number_type: Mapped[str] = mapped_column(String(20))
    cac: Mapped[int | None] = mapped_column(Integer)
    service_info: Mapped[str] = mapped_column(String(255), default="")
    live_since: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who did what, when and where; also refusals (SPEC §7)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"))
    room_id: Mapped[str | None] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")


class WebhookEvent(Base):
    """A received event (webhook delivery or websocket activity), recorded before it is acknowledged.

    Keyed by Webex's (resource, `data.id`); `seq` is the order of arrival, and `room_id` the space
    whose events are processed one at a time in that order (SPEC §7). `person_id` lets the inbox
    cap how many events of one person run at once; `locked_until` marks the ones in hand.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("resource", "id", name="uq_webhook_events_resource_id"),
        Index("ix_webhook_events_open", "state", "seq"),
        Index("ix_webhook_events_room", "room_id", "state", "seq"),
        Index("ix_webhook_events_in_hand", "state", "locked_until"),
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(300))
    resource: Mapped[str] = mapped_column(String(60))
    event: Mapped[str] = mapped_column(String(60))
    room_id: Mapped[str | None] = mapped_column(String(300))
    person_id: Mapped[str | None] = mapped_column(String(300))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class SyncTask(Base):
    """Durable sync work for one upload: push to Webex (integrated) and poll until live."""

    __tablename__ = "sync_tasks"
    __table_args__ = (Index("ix_sync_tasks_due", "state", "next_run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id", ondelete="CASCADE"), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """A message the bot owes a space (Ready notices, digests), sent by the transport once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_run_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    room_id: Mapped[str] = mapped_column(String(300))
    markdown: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class DigestSubscription(Base):
    """A space's daily status digest of one tenant (`digest daily HH:MM`): a space shared by
    several tenants' operators has one per tenant, each changed or stopped only by its tenant."""

    __tablename__ = "digest_subscriptions"
    __table_args__ = (UniqueConstraint("room_id", "tenant_id", name="uq_digest_subscriptions_room_tenant"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[str] = mapped_column(String(300))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id", ondelete="CASCADE"))
    time_of_day: Mapped[str] = mapped_column(String(5))
    last_sent_on: Mapped[date | None] = mapped_column(Date)


class Heartbeat(Base):
    """The last time a background role (the scheduler) showed it is alive, read by /healthz and doctor."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    worker: Mapped[str] = mapped_column(String(100))


class OrganizationConsent(Base):
    """Whether a customer's organization has authorized the Service App (SPEC §5.1), as last seen.

    Rows exist only when a Service App is configured. `state` is `pending` until an organization
    token can be had, then `consented`; a withdrawal makes it `pending` again. Re-checks are due
    at `next_check_at`, backing off per org; `changes` counts grants and withdrawals so each one
    is told to the spaces once. No token is ever stored here.
    """

    __tablename__ = "organization_consents"
    __table_args__ = (Index("ix_organization_consents_due", "state", "next_check_at"),)

    org_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    consented_on: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[int] = mapped_column(Integer, default=0)
