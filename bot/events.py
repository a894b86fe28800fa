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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, delete, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import aliased

from bot import logs, metrics
from bot.envelopes import InboxEnvelope
from bot.lull import Lull
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
    return record_many(db, [envelope])[0]


def record_many(db: Database, envelopes: Sequence[InboxEnvelope]) -> list[bool]:
    """Insert events in one transaction; per envelope, whether it is new.

    A redelivery, already stored or earlier in the same batch, is not new; arrival numbers
    (`seq`) follow the batch's order. One multi-row INSERT … ON CONFLICT DO NOTHING, so a
    batch costs one round trip and one commit."""
    first: dict[tuple[str, str], int] = {}
    for index, envelope in enumerate(envelopes):
        first.setdefault((envelope.resource, envelope.event_id), index)
    now = utcnow()
    rows = [{"id": e.event_id, "resource": e.resource, "event": e.event, "room_id": e.room_id,
             "person_id": e.person_id, "payload": e.payload, "state": "pending", "attempts": 0,
             "received_at": now, "next_run_at": now}
            for e in (envelopes[i] for i in sorted(first.values()))]
    insert = postgresql.insert if db.is_postgres else sqlite.insert
    statement = (insert(WebhookEvent.__table__).values(rows)
                 .on_conflict_do_nothing(index_elements=["resource", "id"])
                 .returning(WebhookEvent.resource, WebhookEvent.id))
    stored = db.write_promptly(lambda conn: {tuple(row) for row in conn.execute(statement)})
    return [first[key] == index and key in stored
            for index, key in enumerate((e.resource, e.event_id) for e in envelopes)]


EVENTS = leases.WorkQueue(WebhookEvent, WebhookEvent.state == "pending", (WebhookEvent.seq,), key=WebhookEvent.seq)
CANDIDATES = 8  # heads looked at per claim before giving up until the next poll


def _claimable(event):
    """Due at `:now`, and waiting neither behind its space (an earlier event unfinished, or one in
    hand) nor behind its person (one in hand).

    The earlier-in-its-space test is one index probe (room_id, state, seq) per candidate; the
    spaces and persons in hand are a small set (one per busy worker thread, found by the
    (state, locked_until) index) that both databases build once per query and look candidates
    up in, so a search costs little however long the backlog, even when every waiting event
    belongs to one busy person."""
    now = bindparam("now")
    earlier, held = aliased(WebhookEvent), aliased(WebhookEvent)
    in_hand = and_(held.state == "pending", held.locked_until >= now)
    spaces_in_hand = select(held.room_id).where(in_hand, held.room_id.is_not(None))
    persons_in_hand = select(held.person_id).where(in_hand, held.person_id.is_not(None))
    return and_(
        event.state == "pending", event.next_run_at <= now,
        or_(event.locked_until.is_(None), event.locked_until < now),
        ~exists().where(earlier.room_id == event.room_id, earlier.state == "pending", earlier.seq < event.seq),
        or_(event.room_id.is_(None), event.room_id.not_in(spaces_in_hand)),
        or_(event.person_id.is_(None), event.person_id.not_in(persons_in_hand)),
    )


def _heads_statement():
    """The oldest claimable events (seq, space, person) at `:now`: a read, so it takes no write lock."""
    event = aliased(WebhookEvent)
    return (select(event.seq, event.room_id, event.person_id).where(_claimable(event))
            .order_by(event.seq).limit(CANDIDATES))


def _lease_statement():
    """Lease event `:pick` to `:worker` until `:until` if it is still claimable at `:now` (the UPDATE
    checks that itself)."""
    event = aliased(WebhookEvent)
    still_claimable = select(event.seq).where(event.seq == bindparam("pick"), _claimable(event)).scalar_subquery()
    return (update(WebhookEvent).where(WebhookEvent.seq == still_claimable, EVENTS.due(bindparam("now")))
            .values(locked_by=bindparam("worker"), locked_until=bindparam("until"),
                    attempts=WebhookEvent.attempts + 1)
            .returning(WebhookEvent.seq, WebhookEvent.id, WebhookEvent.payload, WebhookEvent.attempts))


def _try_lock(conn, kind: str, key: str | None) -> bool:
    """A transaction advisory lock on a space or person (collisions only make a worker skip)."""
    if key is None:
        return True
    hashed = func.hashtextextended(literal(f"{kind}:{key}"), 0)
    return bool(conn.execute(select(func.pg_try_advisory_xact_lock(hashed))).scalar())


HEADS, LEASE = _heads_statement(), _lease_statement()  # built once: a claim only binds its values


def claim(db: Database, worker: str, lease: timedelta) -> ClaimedEvent | None:
    """Lease the oldest claimable event to `worker`, counting the attempt.

    The search is a plain read; only the lease of the chosen event writes, and that UPDATE checks
    again that the event is still claimable. On SQLite this keeps the database's one write lock
    for a single-row update rather than the whole search (recording webhooks needs that lock to
    acknowledge); on PostgreSQL the check and the lease run under advisory locks on the space
    and the person, so workers in other processes cannot claim beside it."""
    now = utcnow()
    search = {"now": now}
    lease_of = {"now": now, "worker": worker, "until": now + lease}
    if not db.is_postgres:
        with db.engine.connect() as conn:
            heads = conn.execute(HEADS, search).all()
        for seq, _room, _person in heads:
            with db.engine.begin() as conn:
                row = conn.execute(LEASE, {**lease_of, "pick": seq}).first()
            if row:
                return ClaimedEvent(*row)
        return None
    with db.engine.begin() as conn:
        for seq, room_id, person_id in conn.execute(HEADS, search).all():
            if _try_lock(conn, "room", room_id) and _try_lock(conn, "person", person_id):
                row = conn.execute(LEASE, {**lease_of, "pick": seq}).first()
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
                 retry_base_seconds: float = 2.0, lull: Lull | None = None) -> None:
        self.db = db
        self.process = process
        self.threads = threads
        self.lease = timedelta(seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.max_attempts = max_attempts
        self.backoff = Backoff(base=retry_base_seconds, cap=RETRY_CAP_SECONDS)
        self.lull = lull  # `leadsbot serve`: claim only between bursts of deliveries (bot/lull.py)
        self.prefix = leases.worker_id("inbox")
        self._stop = threading.Event()
        self._news = 0  # events recorded (or found due) since start: a search is worth repeating when it moved
        self._news_changed = threading.Condition()
        self._searching = threading.Lock()  # one idle worker searches at a time; the others wait behind it
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
        with self._news_changed:
            self._news_changed.notify_all()
        for thread in self._workers:
            thread.join(timeout)
        self._workers = []

    @property
    def alive(self) -> int:
        return sum(1 for t in self._workers if t.is_alive() and t.name != "inbox-leases")

    def wake(self) -> None:
        """A new event was recorded: the idle worker that is searching looks again now.

        Wake-ups that arrive during a search add up to one more search, not one each: a burst of
        deliveries costs the database a handful of searches rather than one per event per
        thread (on SQLite those searches would compete with the acknowledgements)."""
        with self._news_changed:
            self._news += 1
            self._news_changed.notify()

    # work -----------------------------------------------------------------------------------
    def run_once(self, worker: str | None = None) -> bool:
        """Claim and process one event; False when nothing was due (also used by tests)."""
        worker = worker or f"{self.prefix}:once"
        event = self._claim(worker)
        if event is None:
            return False
        self._work(event, worker)
        return True

    def _claim(self, worker: str) -> ClaimedEvent | None:
        if self.lull is not None:
            self.lull.wait(self._stop)
        return claim(self.db, worker, self.lease)

    def _work(self, event: ClaimedEvent, worker: str) -> None:
        """Process a claimed event, renewing its lease meanwhile."""
        with self._held_lock:
            self._held[event.seq] = worker
        try:
            self._handle(event, worker)
        finally:
            with self._held_lock:
                self._held.pop(event.seq, None)
            self.wake()  # the next event of its space or person may be claimable now

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
        """Process events; when idle, take turns at searching (leader/followers).

        A worker that just finished an event claims again at once (the next event of its space
        or person may be due). An idle one searches only while it holds the search turn, and
        after finding nothing waits for news or the poll interval, so idle threads never all
        scan the backlog at once."""
        busy = False
        while not self._stop.is_set():
            try:
                busy = self.run_once(worker) if busy else self._search_turn(worker)
            except Exception as exc:  # the database is unreachable: wait, then try again
                log.warning("inbox worker cannot reach the database: %s", type(exc).__name__)
                busy = False
                self._stop.wait(self.poll_seconds * 5)

    def _search_turn(self, worker: str) -> bool:
        """Hold the search turn until an event is claimed and processed (True), or the turn times out."""
        if not self._searching.acquire(timeout=self.poll_seconds):
            return False
        claimed = None
        try:
            while claimed is None and not self._stop.is_set():
                with self._news_changed:
                    seen = self._news
                claimed = self._claim(worker)
                if claimed is None:
                    with self._news_changed:
                        if self._news == seen and not self._news_changed.wait(self.poll_seconds):
                            return False
        finally:
            self._searching.release()
        if claimed is None:
            return False
        self._work(claimed, worker)
        return True

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
