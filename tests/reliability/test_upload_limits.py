"""Uploads are bounded (issue 16, SPEC §3): at most MAX_UPLOAD_NUMBERS numbers with every range
expanded, counted before anything is staged; previews left open expire after PREVIEW_TTL_HOURS
and a scheduled job deletes their rows in bounded batches, safely from several workers."""
from __future__ import annotations

import threading
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import func, select, update

from provisioning.numbers.e164 import NumberChecker
from provisioning.numbers.limits import TooManyNumbers, count_numbers
from provisioning.numbers.validation import RawEntry
from provisioning.settings import Settings
from provisioning.uploads import previews
from provisioning.uploads.expiry import expire_previews
from store.models import AuditEntry, InvalidEntry, StagedNumber, Upload, utcnow
from tests.reliability.conftest import ROMA, check_reply, snapshot
from tests.support.chat import OPERATOR

UPLOAD = f"upload {ROMA}"


def ranges(count_: int, size: int, first: int = 390212000000) -> list[str]:
    """`count_` ranges of `size` numbers each, typed as START-END."""
    return [f"+{first + i * size}-+{first + (i + 1) * size - 1}" for i in range(count_)]


@pytest.fixture
def staged(monkeypatch) -> list[int]:
    """How many batches reached staging (it must be none for a refused upload)."""
    calls: list[int] = []
    stage = previews._stage

    def recording(session, upload_id, results, *rest):
        calls.append(upload_id)
        return stage(session, upload_id, results, *rest)

    monkeypatch.setattr(previews, "_stage", recording)
    return calls


def test_typed_ranges_past_the_limit_are_refused_before_anything_is_staged(make_chat, staged):
    chat = make_chat(Settings(max_upload_numbers=1_000, max_range=100))
    before = snapshot(chat.services.db)
    reply = chat.say(f"{UPLOAD} {', '.join(ranges(40, 100))}")  # 4,000 numbers in a short message
    check_reply(reply)
    assert "holds more than 1,000 numbers with its ranges expanded" in reply.markdown
    assert "entry 11 passes it" in reply.markdown and "Nothing was stored" in reply.markdown
    assert staged == [] and snapshot(chat.services.db) == before
    accepted = chat.say(f"{UPLOAD} {', '.join(ranges(10, 100))}")  # exactly the limit
    assert "**1000** valid numbers" in accepted.markdown.replace(",", "")


def test_the_issues_message_of_forty_big_ranges_is_refused_with_the_default_limit(chat, staged):
    before = snapshot(chat.services.db)
    reply = chat.say(f"{UPLOAD} {' '.join(ranges(40, 100_000))}")
    check_reply(reply)
    assert "holds more than 1,000,000 numbers" in reply.markdown
    assert staged == [] and snapshot(chat.services.db) == before


def test_a_short_csv_of_big_ranges_is_refused_although_its_rows_are_few(chat, staged):
    lines = ["Number,Range End", *(r.replace("-", ",") for r in ranges(21, 100_000))]
    before = snapshot(chat.services.db)
    reply = chat.say(f"import {ROMA}", files=(("ranges.csv", "\n".join(lines).encode()),))
    check_reply(reply)
    assert "holds more than 1,000,000 numbers" in reply.markdown and "row 12 passes it" in reply.markdown
    assert staged == [] and snapshot(chat.services.db) == before


def test_the_count_is_reusable_for_a_release_and_counts_invalid_entries_once():
    checker = NumberChecker("IT")
    entries = [RawEntry(1, "+390212345600-699"), RawEntry(2, "nonsense-1-2"), RawEntry(3, "+390212345700"),
               RawEntry(4, "+390212345800", "+390212345899")]
    assert count_numbers(entries, checker, max_range=100_000, limit=202) == 202
    with pytest.raises(TooManyNumbers, match="This release holds more than 201 numbers .* row 4 passes it"):
        count_numbers(entries, checker, max_range=100_000, limit=201, what="release")


def age(db, upload_id: int, hours: float) -> None:
    with db.sessions.begin() as session:
        session.execute(update(Upload).where(Upload.id == upload_id)
                        .values(created_at=utcnow() - timedelta(hours=hours)))


def rows_of(db, upload_id: int) -> tuple[int, int]:
    with db.sessions() as session:
        return tuple(session.scalar(select(func.count()).select_from(model).where(model.upload_id == upload_id))
                     for model in (StagedNumber, InvalidEntry))


def state_of(db, upload_id: int) -> str:
    with db.sessions() as session:
        return session.get(Upload, upload_id).state


def abandoned_preview(chat, hours: float = 25) -> int:
    reply = chat.say(f"{UPLOAD} +390212345600-619, +3902123, +3955, 0212345678", as_=OPERATOR)
    assert "**20** valid numbers" in reply.markdown and "**3** invalid" in reply.markdown
    age(chat.services.db, reply.card["upload_id"], hours)
    return reply.card["upload_id"]


def test_an_expired_preview_cannot_be_submitted_or_cancelled_and_its_rows_are_deleted(chat):
    db, settings = chat.services.db, chat.services.settings
    old = abandoned_preview(chat)
    fresh = abandoned_preview(chat, hours=23)
    for command in (f"submit {old}", f"cancel {old}"):
        reply = chat.say(command, as_=OPERATOR)
        check_reply(reply)
        assert f"Preview #{old} expired: previews are kept for 24 hours" in reply.markdown
    assert rows_of(db, old) == (20, 3)  # the job has not run yet

    report = expire_previews(db, settings)
    assert (report.expired, report.deleted, report.done) == (1, 23, 1)
    assert rows_of(db, old) == (0, 0) and state_of(db, old) == "expired"
    assert rows_of(db, fresh) == (20, 3) and state_of(db, fresh) == "preview"
    assert "expired" in chat.say(f"submit {old}", as_=OPERATOR).markdown
    assert "**20** numbers stored" in chat.say("submit", as_=OPERATOR).markdown  # the fresh one
    assert expire_previews(db, settings) == type(report)()  # nothing left to do


def test_the_latest_preview_having_expired_is_said_so_without_an_id(chat):
    old = abandoned_preview(chat)
    reply = chat.say("submit", as_=OPERATOR)
    assert f"Preview #{old} expired" in reply.markdown


def test_the_job_deletes_in_bounded_batches_and_carries_on_next_time(chat):
    db, settings = chat.services.db, chat.services.settings
    old = abandoned_preview(chat)
    ticks = count()
    first = expire_previews(db, settings, batch=7, budget_seconds=3, clock=lambda: next(ticks))
    assert (first.expired, first.deleted, first.done) == (1, 14, 0)  # two batches fitted in the budget
    assert sum(rows_of(db, old)) == 23 - 14 and state_of(db, old) == "expiring"
    assert "expired" in chat.say(f"cancel {old}", as_=OPERATOR).markdown
    second = expire_previews(db, settings, batch=7)
    assert (second.expired, second.deleted, second.done) == (0, 9, 1)
    assert rows_of(db, old) == (0, 0) and state_of(db, old) == "expired"


def test_several_workers_expire_previews_together_without_losing_or_repeating_work(chat):
    db, settings = chat.services.db, chat.services.settings
    uploads = [abandoned_preview(chat) for _ in range(4)]
    for upload_id in uploads[1:]:
        chat.say(f"cancel {upload_id}", as_=OPERATOR)  # refused: expired, but their rows stay until the job
    reports, errors = [], []

    def worker() -> None:
        try:
            reports.append(expire_previews(db, settings, batch=5))
        except Exception as exc:  # pragma: no cover - the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(r.expired for r in reports) == 4 and sum(r.done for r in reports) == 4
    assert sum(r.deleted for r in reports) == 4 * 23
    assert all(rows_of(db, u) == (0, 0) and state_of(db, u) == "expired" for u in uploads)
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "upload.expire")) == 4
