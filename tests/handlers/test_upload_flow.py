"""The upload flow through the handlers, on SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from store.models import AuditEntry, InvalidEntry, Number, Service, StagedNumber, SyncTask, Upload
from tests.support.chat import ADMIN, OPERATOR

ROMA = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"
BAGELS = "upload bagels-cc profile=CC-Default sip=PSTN-NewYork type=user"


def count(db, model, *where) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_range_preview_then_submit_stores_exactly_the_valid_numbers(chat):
    chat.say("tenant Acme SP")
    reply = chat.say(f"{BAGELS} +12127881500-1599")
    assert "**100** valid numbers" in reply.markdown
    assert reply.card == {"kind": "preview", "upload_id": 1, "service": "bagels-cc"}
    assert count(chat.services.db, Number) == 0
    reply = chat.say("submit")
    assert "**100** numbers stored for `bagels-cc`" in reply.markdown
    with chat.services.db.sessions() as session:
        numbers = session.scalars(select(Number.e164).order_by(Number.e164)).all()
        assert numbers[0] == "+12127881500" and numbers[-1] == "+12127881599" and len(numbers) == 100
        assert session.get(Upload, 1).cac == 2
        assert session.scalar(select(SyncTask.state)) == "pending"
        assert session.scalar(select(func.count()).select_from(StagedNumber)) == 0
        service = session.scalar(select(Service).where(Service.name == "bagels-cc"))
        upload = session.get(Upload, 1)
        assert upload.state == "submitted" and service.last_modified >= upload.submitted_at


def test_invalid_entries_are_named_and_valid_ones_still_previewed(chat):
    chat.say("tenant Acme SP")
    reply = chat.say(f"{ROMA} +390212345678, 390212345679 +12127881500 +39021234567x +390212345678")
    text = reply.markdown
    assert "**1** valid number" in text
    assert "row 2 `390212345679`: missing + sign" in text
    assert "row 3 `+12127881500`: wrong country — expected +39" in text
    assert "row 4" in text
    assert "**1** repeated in the upload" in text


def test_numbers_already_uploaded_or_assigned_elsewhere(chat):
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345600-609")
    chat.say("submit")
    reply = chat.say(f"{ROMA} +390212345605-614")
    assert "**5** valid numbers" in reply.markdown
    assert "**5** already uploaded to this service" in reply.markdown
    reply = chat.say("upload roma-cx profile=CC-Default sip=PSTN-Milan type=contact-center +390212345600")
    assert "assigned to service `roma-cc`" in reply.markdown
    assert "nothing valid to submit" in reply.markdown


def test_submit_is_all_or_nothing_when_numbers_were_taken_meanwhile(chat):
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345600-619", room="room:a")
    chat.say("upload roma-cx profile=CC-Default sip=PSTN-Milan type=contact-center +390212345610-612", room="room:b")
    assert "**3** numbers stored" in chat.say("submit", room="room:b").markdown
    reply = chat.say("submit", room="room:a")
    assert "Nothing was stored" in reply.markdown
    assert count(chat.services.db, Number, Number.upload_id == 1) == 0
    assert count(chat.services.db, Number) == 3


def test_cancel_drops_the_preview(chat):
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345678")
    assert "cancelled: nothing was stored" in chat.say("cancel 1").markdown
    assert count(chat.services.db, StagedNumber) == 0
    assert "already cancelled" in chat.say("submit 1").markdown
    assert "no open preview" in chat.say("submit").markdown


def test_option_errors_are_reported_together(chat):
    chat.say("tenant Acme SP")
    reply = chat.say("upload roma-cc profile=Nope sip=Nada type=user cac=5 +390212345678")
    assert "`user` numbers have CAC 2" in reply.markdown
    assert "No calling profile `Nope`" in reply.markdown
    assert "No SIP connection `Nada`" in reply.markdown
    reply = chat.say("upload roma-cx profile=CC-Default sip=PSTN-Milan type=user +390212345678")
    assert "live-cx service takes only contact-center" in reply.markdown
    reply = chat.say("upload roma-cc profile=CC-Default sip=PSTN-Milan type=service cac=1 +390212345678")
    assert "CAC must be a whole number of 2 or more" in reply.markdown
    assert count(chat.services.db, Upload) == 0


def test_pending_consent_service_refuses_numbers(chat):
    chat.say("tenant Acme SP")
    reply = chat.say("upload lyon-cc profile=CC-Default sip=PSTN-Milan type=user +33142685300")
    assert "Pending Consent" in reply.markdown
    assert count(chat.services.db, Upload) == 0


def test_import_csv_with_good_and_bad_rows_returns_the_invalid_rows_file(chat):
    chat.say("tenant Acme SP")
    rows = ["Number,Range End", "+390212345600,+390212345649", "+390212345650,"]
    rows += [f"39021234{n:04d}," for n in range(20)]
    data = ("\n".join(rows) + "\n").encode()
    reply = chat.say("import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center",
                     files=(("numbers.csv", data),))
    assert "**51** valid numbers" in reply.markdown
    assert "**20** invalid" in reply.markdown
    (report,) = reply.files
    found = list(csv.reader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert found[0] == ["Row", "Value", "Reason"]
    assert len(found) == 21 and found[1][0] == "4" and "missing + sign" in found[1][2]
    assert count(chat.services.db, InvalidEntry) == 20
    chat.say("submit")
    assert count(chat.services.db, Number) == 51


def test_import_without_attachment_or_with_bad_file(chat, settings):
    chat.say("tenant Acme SP")
    command = "import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"
    assert "Attach a CSV or XLSX" in chat.say(command).markdown
    reply = chat.say(command, files=(("numbers.pdf", b"%PDF-1.4 binary"),))
    assert "Nothing" in reply.markdown or "CSV" in reply.markdown
    assert count(chat.services.db, Upload) == 0


def test_too_many_rows_leave_nothing_behind(db):
    from handlers import Services
    from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
    from provisioning.settings import Settings
    from tests.support.chat import Chat

    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    chat = Chat(Services(db=db, settings=Settings(max_rows=5)))
    chat.say("tenant Acme SP")
    data = ("Number\n" + "".join(f"+3902123456{n:02d}\n" for n in range(10))).encode()
    reply = chat.say("import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center", files=(("n.csv", data),))
    assert "5" in reply.markdown
    assert count(db, Upload) == 0 and count(db, StagedNumber) == 0


def test_numbers_search_and_export(chat):
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345600-629")
    chat.say("submit")
    reply = chat.say("numbers Pizzeria")
    assert "**Numbers matching `Pizzeria`**: 30" in reply.markdown
    assert "`roma-cc` (`Pizzeria Roma S.p.A.`): 30 — pending 30" in reply.markdown
    (export,) = reply.files
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    assert rows[0][0] == "Number" and len(rows) == 31 and rows[1][0] == "+390212345600"
    reply = chat.say("numbers +39 02 1234 5601")
    assert ": 1" in reply.markdown and not reply.files
    assert "No numbers match" in chat.say("numbers +44").markdown


def test_leads_and_status(chat):
    chat.say("tenant Acme SP")
    reply = chat.say("leads")
    assert "roma-cc" in reply.markdown and "Pending Provisioning" in reply.markdown
    assert "lyon-cc` · channel `Fromagerie Service Client` · **Pending Consent**" in reply.markdown
    chat.say(f"{ROMA} +390212345600-604")
    chat.say("submit")
    reply = chat.say("status roma")
    assert "roma" in reply.markdown
    reply = chat.say("status roma-cc")
    assert "**Syncing**" in reply.markdown and "Numbers: 5 (pending 5" in reply.markdown
    assert "Sync with Webex is not configured (no Service App or partner token)" in reply.markdown
    assert "Bagels" in chat.say("leads bagel").markdown


def test_an_integrated_preview_refuses_mobile_numbers_and_a_non_integrated_one_takes_them(chat):
    chat.say("tenant Acme SP")
    reply = chat.say("upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center "
                     "+393123456789, +390212345678")
    assert "**1** valid number" in reply.markdown and "**1** invalid" in reply.markdown
    assert "mobile number: Webex adds mobile numbers through a carrier order" in reply.markdown
    assert "Checked" not in reply.markdown  # no organization credentials: no Webex check
    reply = chat.say("upload roma-cx profile=CC-Default sip=PSTN-Milan type=contact-center +393123456789")
    assert "**1** valid number" in reply.markdown


def test_access_rules(chat):
    reply = chat.say("leads", as_="stranger@evil.example")
    assert "not an operator" in reply.markdown
    reply = chat.say("leads", as_=ADMIN)
    assert "several tenants" in reply.markdown
    reply = chat.say("inventory", as_=OPERATOR, files=(("i.yaml", b"tenants: []"),))
    assert "for admins of `Acme SP` only" in reply.markdown
    with chat.services.db.sessions() as session:
        refused = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "access.refused")).all()
    assert sorted(refused) == [OPERATOR, "stranger@evil.example"]


def test_help_unknown_command_and_usage(chat):
    reply = chat.say("help")
    for name in ("upload", "import", "submit", "cancel", "template", "numbers", "status", "digest", "leads", "tenant"):
        assert f"`{name}" in reply.markdown
    assert "I don't know the command `frobnicate`" in chat.say("frobnicate").markdown
    chat.say("tenant Acme")
    reply = chat.say("upload roma-cc bogus=1 +390212345678")
    assert "Unknown option `bogus=`" in reply.markdown and "Usage: `upload SERVICE" in reply.markdown
    assert "check the quotes" in chat.say('upload roma-cc info="unterminated').markdown


def test_card_submission_runs_the_same_upload(chat):
    chat.say("tenant Acme SP")
    form = chat.say("upload roma-cc")
    assert form.card["kind"] == "upload-form" and "CC-Default" in form.card["calling_profiles"]
    reply = chat.say("", card={"action": "upload", "service": "roma-cc", "profile": "CC-Default", "sip": "PSTN-Milan",
                               "type": "contact-center", "cac": "4", "info": "Agents", "entry_mode": "range",
                               "number": "+390212345600", "range_end": "619"})
    assert "**20** valid numbers" in reply.markdown
    reply = chat.say("", card={"action": "submit", "upload_id": reply.card["upload_id"]})
    assert "**20** numbers stored" in reply.markdown
    with chat.services.db.sessions() as session:
        assert set(session.scalars(select(Upload.cac).join(Number, Number.upload_id == Upload.id))) == {4}
        assert session.scalar(select(Upload.source)) == "card"


def test_template_and_digest(chat):
    reply = chat.say("template")
    assert [f.name for f in reply.files] == ["numbers-template.csv", "numbers-template.xlsx"]
    chat.say("tenant Acme SP")
    assert "08:30 UTC" in chat.say("digest daily 8:30").markdown
    assert "digest daily HH:MM" in chat.say("digest weekly").markdown
    assert "stopped" in chat.say("digest off").markdown


def test_numbers_taken_since_the_preview_stop_the_whole_submit_with_examples(chat):
    """Submit finds out from the unique e164 (no join with the store first) and names the numbers."""
    chat.say("tenant Acme SP")
    chat.say("upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center +390212345600-619")
    with chat.services.db.sessions.begin() as session:
        other = session.scalar(select(Upload).where(Upload.state == "preview"))
        session.add(Number(e164="+390212345607", service_id=other.service_id, upload_id=other.id,
                           number_type="contact-center"))
    reply = chat.say("submit")
    assert "uploaded by someone else since the preview (e.g. +390212345607)" in reply.markdown
    assert "Nothing was stored" in reply.markdown
    assert count(chat.services.db, Number) == 1
    assert count(chat.services.db, StagedNumber) == 20


def test_a_re_upload_of_stored_numbers_has_nothing_to_submit_and_leaves_other_previews_alone(chat):
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345600-609")
    chat.say("submit")
    chat.say(f"{ROMA} +390212345700-704", room="room:other")
    reply = chat.say(f"{ROMA} +390212345600-609")
    assert "**10** already uploaded to this service" in reply.markdown
    assert "nothing valid to submit" in reply.markdown
    assert "**5** numbers stored" in chat.say("submit", room="room:other").markdown  # the other preview kept its own
    assert "no valid numbers to submit" in chat.say("submit 3").markdown
    assert count(chat.services.db, Number) == 15


def test_numbers_already_uploaded_stay_out_of_the_submit_and_in_the_report(chat):
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212345600-604")
    chat.say("submit")
    reply = chat.say(f"{ROMA} +390212345600-609")  # five known, five new
    assert "**5** already uploaded to this service" in reply.markdown
    assert "+390212345600–+390212345604" in reply.markdown
    assert "**5** numbers stored" in chat.say("submit").markdown
    assert count(chat.services.db, Number) == 10
    assert count(chat.services.db, StagedNumber) == 0
    with chat.services.db.sessions() as session:
        kept = session.scalars(select(InvalidEntry.value).where(InvalidEntry.upload_id == 2)
                               .order_by(InvalidEntry.value)).all()
    assert kept == [f"+39021234560{n}" for n in range(5)]  # the report stays whole after submit
