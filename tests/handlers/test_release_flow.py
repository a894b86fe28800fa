"""`release` through the handlers, on SQLite and PostgreSQL: preview, submit/cancel, the bad
inputs of issue 13 (each a clear reply, nothing changed), and a release racing an upload."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from provisioning.leads.digests import build_digest
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from store.models import AuditEntry, Number, OutboxMessage, Service, SyncTask, utcnow
from tests.support.chat import OPERATOR
from tests.support.fake_numbers_api import FakeNumbersApi

ROMA = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"
CX = "upload roma-cx profile=CC-Default sip=PSTN-Milan type=contact-center"
GLOBEX_ADMIN = "bob@globex.example"


@pytest.fixture(autouse=True)
def in_acme(chat):
    chat.say("tenant Acme SP")


def numbers(db) -> dict[str, tuple[str, str]]:
    with db.sessions() as session:
        return {e164: (service, state) for e164, service, state in session.execute(
            select(Number.e164, Service.name, Number.sync_state).join(Service, Service.id == Number.service_id))}


def sync(db, api, minutes: int = 0):
    return run_due_sync(db, api, Settings(sync_poll_seconds=60), worker_id="w",
                        now=utcnow() + timedelta(minutes=minutes))


def go_live(chat, api=None) -> FakeNumbersApi:
    api = api or FakeNumbersApi()
    sync(chat.services.db, api)
    return api


def test_preview_says_which_entries_are_numbers_of_the_service_and_which_are_not(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600-609")
    chat.say("submit")
    chat.say(f"{CX} +390212345700")
    chat.say("submit")
    before = numbers(db)
    reply = chat.say("release roma-cc +390212345605-614, +390212345700")
    text = reply.markdown
    assert text.startswith("**Release preview #3 for `roma-cc`** (2 entries read)")
    assert "**5** numbers of this service to release" in text
    assert "**5** not in this service" in text
    assert "**1** in service `roma-cx`" in text
    assert "row 2 `+390212345700`: in service `roma-cx`" in text
    assert "`submit 3` releases the 5 numbers" in text
    assert reply.card == {"kind": "preview", "upload_id": 3, "service": "roma-cc"}
    assert numbers(db) == before  # a preview changes nothing


def test_submit_releases_never_pushed_numbers_at_once_and_they_can_be_uploaded_anywhere(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600-604")
    chat.say("submit")
    chat.say("release roma-cc +390212345600-604", as_=OPERATOR)
    reply = chat.say("submit", as_=OPERATOR)
    assert reply.markdown.startswith("✅ Release #2 submitted: **5** numbers of `roma-cc`.")
    assert "released at once" in reply.markdown
    assert numbers(db) == {}
    with db.sessions() as session:
        audit = session.execute(select(AuditEntry.actor, AuditEntry.detail)
                                .where(AuditEntry.action == "release.submit")).one()
        assert audit.actor == OPERATOR and "+390212345600" in audit.detail
        assert session.scalar(select(OutboxMessage.markdown)) == "✅ `roma-cc`: 5 numbers released"
    chat.say(f"{CX} +390212345600-604")
    assert "**5** numbers stored for `roma-cx`" in chat.say("submit").markdown


def test_pushed_numbers_show_removing_until_webex_removed_them(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600-611")
    chat.say("submit")
    api = go_live(chat)
    chat.say("release roma-cc +390212345600-611")
    reply = chat.say("submit")
    assert "12 are being removed from the customer's Webex location" in reply.markdown
    assert "Removing" in chat.say("status roma-cc").markdown
    assert "Removing" in chat.say("leads roma").markdown
    refused = chat.say(f"{ROMA} +390212345800")
    assert "is Removing: 12 numbers are being released" in refused.markdown
    assert "+390212345800" not in numbers(db)
    sync(db, api, minutes=1)
    assert [len(c) for c in api.remove_calls] == [5, 5, 2]
    assert numbers(db) == {}
    assert "Pending Provisioning" in chat.say("status roma-cc").markdown


def test_cancel_drops_a_release_preview(chat):
    chat.say(f"{ROMA} +390212345600")
    chat.say("submit")
    chat.say("release roma-cc +390212345600")
    assert chat.say("cancel").markdown == "Preview #2 for `roma-cc` cancelled: nothing was released."
    assert numbers(chat.services.db) == {"+390212345600": ("roma-cc", "pending")}


def test_release_from_a_file_uses_the_upload_file_reader(chat):
    chat.say(f"{ROMA} +390212345600-609")
    chat.say("submit")
    csv = "Number,Range End\n+390212345600,+390212345604\n+390212345900,\n".encode()
    reply = chat.say("release roma-cc", files=(("out.csv", csv),))
    assert "**5** numbers of this service to release" in reply.markdown
    assert "row 3 `+390212345900`: not in this service" in reply.markdown


# bad input: each a clear reply, nothing changed ------------------------------------------------

def test_releasing_from_a_service_you_are_not_an_operator_of(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600")
    chat.say("submit")
    reply = chat.say("release roma-cc +390212345600", as_=GLOBEX_ADMIN)
    assert "roma-cc" in reply.markdown and "leads" in reply.markdown
    assert "submit" not in reply.markdown
    assert numbers(db) == {"+390212345600": ("roma-cc", "pending")}


def test_a_number_of_another_tenant_is_not_in_this_service_and_never_named(chat):
    db = chat.services.db
    chat.say("tenant Globex SP")
    chat.say("upload thames-cc profile=CC-Default sip=PSTN-London type=user +442079460000")
    chat.say("submit")
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345600")
    chat.say("submit")
    reply = chat.say("release roma-cc +390212345600, +442079460000")
    assert "thames" not in reply.markdown.lower()
    assert "**1** numbers" not in reply.markdown and "**1** number of this service" in reply.markdown
    assert "+390212345600" in numbers(db) and "+442079460000" in numbers(db)


def test_a_range_partly_in_the_service_names_the_numbers_left_out(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600-604")
    chat.say("submit")
    reply = chat.say("release roma-cc +390212345600-609")
    assert "**5** numbers of this service to release" in reply.markdown
    assert "**5** not in this service" in reply.markdown
    assert "row 1 `+390212345605–+390212345609`: 5 numbers not in this service" in reply.markdown  # a run is one line
    assert len(numbers(db)) == 5


def test_a_release_while_the_service_is_pending_consent_is_queued_and_says_so(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600-602")
    chat.say("submit")
    api = go_live(chat)
    with db.sessions.begin() as session:  # consent withdrawn after the numbers went live
        session.execute(update(Service).where(Service.name == "roma-cc").values(consented_on=None))
    chat.say("release roma-cc +390212345600-602")
    reply = chat.say("submit")
    assert "Queued: the service is Pending Consent" in reply.markdown
    sync(db, api, minutes=1)
    assert api.remove_calls == [] and len(numbers(db)) == 3
    with db.sessions() as session:
        assert "Pending Consent" in session.scalar(select(SyncTask.last_error).where(SyncTask.upload_id == 2))
    with db.sessions.begin() as session:
        session.execute(update(Service).where(Service.name == "roma-cc").values(consented_on=utcnow()))
    sync(db, api, minutes=2)
    assert len(api.remove_calls) == 1 and numbers(db) == {}


def test_nothing_to_release_and_no_numbers(chat):
    assert "No numbers given" in chat.say("release roma-cc").markdown
    reply = chat.say("release roma-cc +390212345600")
    assert "nothing of this service to release" in reply.markdown and reply.card is None
    assert "Release #1 has no numbers of `roma-cc` to release" in chat.say("submit").markdown


# a release racing an upload -------------------------------------------------------------------

def test_a_release_and_an_upload_of_the_same_number_racing_end_explainably(chat):
    """Release preview #2 of +…600; meanwhile release #3 takes it out and roma-cx uploads it (#4).
    Submitting #2 then changes nothing and says why; the number is roma-cx's."""
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600-601")
    chat.say("submit")
    chat.say("release roma-cc +390212345600-601", room="room:a")
    chat.say("release roma-cc +390212345600", room="room:b")
    assert "released at once" in chat.say("submit", room="room:b").markdown
    chat.say(f"{CX} +390212345600", room="room:b")
    chat.say("submit", room="room:b")
    reply = chat.say("submit 2", room="room:a")
    assert "no longer numbers of `roma-cc` that can be released (e.g. +390212345600)" in reply.markdown
    assert "Nothing was released" in reply.markdown
    assert numbers(db) == {"+390212345600": ("roma-cx", "pending"), "+390212345601": ("roma-cc", "pending")}


def test_an_upload_of_a_number_being_released_elsewhere_is_refused_until_it_is_released(chat):
    db = chat.services.db
    chat.say(f"{ROMA} +390212345600")
    chat.say("submit")
    api = go_live(chat)
    api.remove_later = True
    chat.say("release roma-cc +390212345600")
    chat.say("submit")
    reply = chat.say(f"{CX} +390212345600")
    assert "assigned to service `roma-cc`" in reply.markdown
    sync(db, api, minutes=1)
    assert numbers(db) == {"+390212345600": ("roma-cc", "removed")}
    api.settle()
    sync(db, api, minutes=2)
    chat.say(f"{CX} +390212345600")
    assert "**1** number stored for `roma-cx`" in chat.say("submit").markdown
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Number)) == 1


# usage ------------------------------------------------------------------------------------------

def test_usage_month_13_is_a_clear_error_and_an_empty_month_is_not(chat):
    reply = chat.say("usage month=2026-13")
    assert "month=`2026-13` is not a month: write it as YYYY-MM with MM from 01 to 12" in reply.markdown
    reply = chat.say("usage month=2020-01")
    assert reply.markdown.splitlines() == ["**Usage of tenant `Acme SP` in 2020-01** (UTC)",
                                           "No numbers were live in tenant `Acme SP` in 2020-01: nothing to meter."]
    assert reply.files == ()


def test_usage_meters_numbers_the_poll_saw_live_and_the_csv_has_a_row_per_service_and_info(chat):
    chat.say(f'{ROMA} info="Fax IVR" cac=4 +390212345600-602')
    chat.say("submit")
    go_live(chat)
    reply = chat.say("usage")
    assert "**`roma-cc`** (`Pizzeria Roma S.p.A.`): 3 numbers (contact-center 3), peak 3, CAC 12" in reply.markdown
    [table] = reply.files
    assert table.name.startswith("usage-20") and table.name.endswith(".csv")
    lines = table.data.decode("utf-8-sig").splitlines()
    assert lines[0] == "Month,Customer,Service,Service Info,Numbers,user,service,contact-center,CAC,Number-days," \
                       "Service Peak"
    assert lines[1].split(",")[1:9] == ["Pizzeria Roma S.p.A.", "roma-cc", "Fax IVR", "3", "0", "0", "3", "12"]
    one = chat.say("usage roma-cc")
    per_number = one.files[0].data.decode("utf-8-sig").splitlines()
    assert len(per_number) == 4 and per_number[1].split(",")[2:6] == ["+390212345600", "contact-center", "4",
                                                                       "Fax IVR"]
    assert "Numbers live now: **3** (contact-center 3)" in _digest(chat)


def _digest(chat) -> str:
    with chat.services.db.sessions() as session:
        tenant_id = session.scalar(select(Service.tenant_id).where(Service.name == "roma-cc"))
        return build_digest(session, tenant_id, utcnow())
