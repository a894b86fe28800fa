"""The durable inbox: record before acknowledging, process in background threads, in order per space.

An event is a `WebhookEvent` row keyed by Webex's (resource, `data.id`), so a redelivery is a
no-op insert; its `seq` is the order of arrival. Worker threads claim one row at a time with a
lease (`store.leases`), renewed while work runs; a process that dies lets its leases expire, so
an event acknowledged but never finished is picked up again on restart.

Ordering works like the message groups of an ordered queue, the space (`room_id`) being the
group: a worker may claim an event only when no earlier event of its space is unfinished and no
other event of its space is leased, so a space's events run one at a time, in order, while other
spaces run in parallel. The same test caps one person at one event in flight, so one operator's
heavy uploads never take every worker (SPEC §7). On PostgreSQL the check and the claim of a
space happen under a transaction advisory lock on the space (and the person), so workers in
several processes cannot both see a space idle and claim two of its events.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import aliased

from bot import logs, metrics
from bot.envelopes import InboxEnvelope
from bot.retry import describe, is_transient
from provisioning.backoff import Backoff
from store import leases
from store.db import Database
from store.leases import LeaseLost
from store.models import WebhookEvent, utcnow

log = logging.getLogger(__name__)

KEEP_DONE_EVENTS = timedelta(days=7)  # far longer than Webex ever redelivers
RETRY_CAP_SECONDS = 900


class PermanentError(Exception):
    """Processing failed in a way a retry cannot fix (e.g. the reply was refused)."""


def retryable(exc: BaseException) -> bool:
    """Webex 429/5xx/timeouts and a database that went away pass; a 404 or a bug will not."""
    return is_transient(exc) or isinstance(exc, (OperationalError, InterfaceError, PoolTimeout))


@dataclass(frozen=True)
class ClaimedEvent:
    seq: int
    id: str
    payload: str
    attempts: int


def record(db: Database, envelope: InboxEnvelope) -> bool:
    """Insert an event; False when this (resource, `data.id`) was already recorded (a redelivery)."""
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    now = utcnow()
    statement = insert(WebhookEvent.__table__).values(
        id=envelope.event_id, resource=envelope.resource, event=envelope.event, room_id=envelope.room_id,
        person_id=envelope.person_id, payload=envelope.payload, state="pending", attempts=0,
        received_at=now, next_run_at=now,
    ).on_conflict_do_nothing(index_elements=["resource", "id"]).returning(WebhookEvent.seq)
    with db.engine.begin() as conn:
        return conn.execute(statement).first() is not None


EVENTS = leases.WorkQueue(WebhookEvent, WebhookEvent.state == "pending", (WebhookEvent.seq,), key=WebhookEvent.seq)
CANDIDATES = 8  # heads looked at per claim on PostgreSQL before giving up until the next poll


def _claimable(event, now: datetime):
    """Due, and neither waiting behind its space (earlier unfinished, or one leased) nor its person.

    Three separate NOT EXISTS, each answered by an index (space: room_id, state, seq; person:
    person_id, state), so the check costs a few index probes however long the backlog."""
    earlier, leased_room, leased_person = aliased(WebhookEvent), aliased(WebhookEvent), aliased(WebhookEvent)
    return and_(
        event.state == "pending", event.next_run_at <= now,
        or_(event.locked_until.is_(None), event.locked_until < now),
        ~exists().where(earlier.room_id == event.room_id, earlier.state == "pending", earlier.seq < event.seq),
        ~exists().where(leased_room.room_id == event.room_id, leased_room.state == "pending",
                        leased_room.locked_until >= now, leased_room.seq != event.seq),
        ~exists().where(leased_person.person_id == event.person_id, leased_person.state == "pending",
                        leased_person.locked_until >= now, leased_person.seq != event.seq),
    )


def _lease(conn, pick, worker: str, now: datetime, lease: timedelta):
    """Lease the row `pick` (a scalar seq subquery or value) chooses; the row or None."""
    statement = (update(WebhookEvent).where(WebhookEvent.seq == pick, EVENTS.due(now))
                 .values(locked_by=worker, locked_until=now + lease, attempts=WebhookEvent.attempts + 1)
                 .returning(WebhookEvent.seq, WebhookEvent.id, WebhookEvent.payload, WebhookEvent.attempts))
    return conn.execute(statement).first()


def _head(now: datetime, seq: int | None = None):
    event = aliased(WebhookEvent)
    query = select(event.seq).where(_claimable(event, now))
    if seq is not None:
        query = query.where(event.seq == seq)
    return query.order_by(event.seq).limit(1).scalar_subquery()


def _try_lock(conn, kind: str, key: str | None) -> bool:
    """A transaction advisory lock on a space or person (collisions only make a worker skip)."""
    if key is None:
        return True
    hashed = func.hashtextextended(literal(f"{kind}:{key}"), 0)
    return bool(conn.execute(select(func.pg_try_advisory_xact_lock(hashed))).scalar())


def claim(db: Database, worker: str, lease: timedelta) -> ClaimedEvent | None:
    """Lease the oldest claimable event to `worker`, counting the attempt."""
    now = utcnow()
    with db.engine.begin() as conn:
        if not db.is_postgres:  # one writer at a time: the check and the claim are one statement
            row = _lease(conn, _head(now), worker, now, lease)
            return ClaimedEvent(*row) if row else None
        event = aliased(WebhookEvent)
        heads = conn.execute(select(event.seq, event.room_id, event.person_id).where(_claimable(event, now))
                             .order_by(event.seq).limit(CANDIDATES)).all()
        for seq, room_id, person_id in heads:
            if _try_lock(conn, "room", room_id) and _try_lock(conn, "person", person_id):
                row = _lease(conn, _head(now, seq), worker, now, lease)  # checked again, under the locks
                if row:
                    return ClaimedEvent(*row)
    return None


def finish(db: Database, event: ClaimedEvent, worker: str, *, error: str | None = None,
           retry_at: datetime | None = None) -> None:
    """Mark done, failed (error, no retry_at) or pending again (retry_at); only while we hold it."""
    if error is None:
        values = {"state": "done", "processed_at": utcnow(), "error": None}
    elif retry_at is None:
        values = {"state": "failed", "processed_at": utcnow(), "error": error[:2000]}
    else:
        values = {"state": "pending", "next_run_at": retry_at, "error": error[:2000]}
    try:
        with db.engine.begin() as conn:
            leases.release(conn, EVENTS, event.seq, worker, **values)
        metrics.event_finished(values["state"])
    except LeaseLost:
        log.warning("event %s: lease lost before it was marked %s", event.id, values["state"])


def prune(db: Database, older_than: timedelta = KEEP_DONE_EVENTS) -> int:
    """Forget processed events once no redelivery can arrive for them."""
    statement = delete(WebhookEvent).where(WebhookEvent.state == "done",
                                           WebhookEvent.processed_at < utcnow() - older_than)
    with db.engine.begin() as conn:
        return conn.execute(statement).rowcount


class Inbox:
    """Background threads that drain the inbox with `process(envelope)`."""

    def __init__(self, db: Database, process: Callable[[dict], None], *, threads: int = 4,
                 lease_seconds: float = 60, poll_seconds: float = 1.0, max_attempts: int = 5,
                 retry_base_seconds: float = 2.0) -> None:
        self.db = db
        self.process = process
        self.threads = threads
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.backoff = Backoff(base=retry_base_seconds, cap=RETRY_CAP_SECONDS)
        self.prefix = leases.worker_id("inbox")
        self._stop = threading.Event()
        self._wakeups = threading.Semaphore(0)
        self._held: dict[int, str] = {}  # event seq -> worker name, for lease renewal
        self._held_lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._workers:
            return
        self._stop.clear()
        for index in range(self.threads):
            name = f"{self.prefix}:{index}"
            self._workers.append(threading.Thread(target=self._run, args=(name,), name=f"inbox-{index}",
                                                  daemon=True))
        self._workers.append(threading.Thread(target=self._keep_leases, name="inbox-leases", daemon=True))
        for thread in self._workers:
            thread.start()
        log.info("inbox started with %d worker thread(s)", self.threads)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        for _ in range(self.threads):
            self._wakeups.release()
        for thread in self._workers:
            thread.join(timeout)
        self._workers = []

    @property
    def alive(self) -> int:
        return sum(1 for t in self._workers if t.is_alive() and t.name != "inbox-leases")

    def wake(self) -> None:
        """A new event was recorded by this process: let an idle worker look now."""
        self._wakeups.release()

    # work -----------------------------------------------------------------------------------
    def run_once(self, worker: str | None = None) -> bool:
        """Claim and process one event; False when nothing was due (also used by tests)."""
        worker = worker or f"{self.prefix}:once"
        event = claim(self.db, worker, self.lease)
        if event is None:
            return False
        with self._held_lock:
            self._held[event.seq] = worker
        try:
            self._handle(event, worker)
        finally:
            with self._held_lock:
                self._held.pop(event.seq, None)
        return True

    def _handle(self, event: ClaimedEvent, worker: str) -> None:
        """Process one claimed event, its id and space in every log record meanwhile."""
        try:
            envelope = json.loads(event.payload)
        except ValueError as exc:
            envelope = exc
        data = envelope.get("data") if isinstance(envelope, dict) else None
        space = data.get("roomId") if isinstance(data, dict) else None
        with logs.context(event_id=event.id, space=space):
            self._process(event, envelope, worker)

    def _process(self, event: ClaimedEvent, envelope: dict | ValueError, worker: str) -> None:
        try:
            if isinstance(envelope, ValueError):
                raise envelope
            self.process(envelope)
        except PermanentError as exc:
            log.error("event %s failed permanently: %s", event.id, exc)
            finish(self.db, event, worker, error=str(exc))
        except Exception as exc:
            reason = describe(exc)
            if not retryable(exc):
                log.exception("event %s failed: %s", event.id, reason)
                finish(self.db, event, worker, error=reason)
            elif event.attempts >= self.max_attempts:
                log.error("event %s failed after %d attempts: %s", event.id, event.attempts, reason)
                finish(self.db, event, worker, error=reason)
            else:
                delay = self.backoff.delay(event.attempts)
                log.warning("event %s failed (%s); retry in %.0fs", event.id, reason, delay)
                finish(self.db, event, worker, error=reason, retry_at=utcnow() + timedelta(seconds=delay))
        else:
            finish(self.db, event, worker)

    def _run(self, worker: str) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once(worker)
            except Exception as exc:  # the database is unreachable: wait, then try again
                log.warning("inbox worker cannot reach the database: %s", type(exc).__name__)
                busy = False
                self._stop.wait(self.poll_seconds * 5)
            if not busy:
                self._wakeups.acquire(timeout=self.poll_seconds)

    def _keep_leases(self) -> None:
        """Renew leases of events still being processed, and now and then prune old rows."""
        beat = max(0.5, self.lease.total_seconds() / 3)
        since_prune = float("inf")
        while not self._stop.wait(beat):
            with self._held_lock:
                held = dict(self._held)
            try:
                for seq, worker in held.items():
                    self._renew(seq, worker)
                since_prune += beat
                if since_prune >= 3600:
                    since_prune = 0
                    prune(self.db)
            except Exception as exc:
                log.warning("inbox lease renewal failed: %s", type(exc).__name__)

    def _renew(self, seq: int, worker: str) -> None:
        try:
            with self.db.engine.begin() as conn:
                leases.renew(conn, EVENTS, seq, worker, utcnow(), self.lease)
        except LeaseLost:  # finished meanwhile (or taken over: `finish` will say so)
            log.debug("event #%s: nothing to renew", seq)
