"""Operators talking to the running bot through the fake Webex: messages, files and cards."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from sqlalchemy import func, select

from store.models import AuditEntry, Number, Upload
from tests.support.live import ADMIN, OPERATOR, STRANGER, card_of

IMPORT = "import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"


def numbers_csv(numbers: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Number", "Range End"])
    for number in numbers:
        writer.writerow([number, ""])
    return out.getvalue().encode("utf-8")


def numbers_xlsx(numbers: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Number", "Range End"])
    for number in numbers:
        sheet.append([number, None])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def stored_numbers(db) -> list[str]:
    with db.sessions() as session:
        return sorted(session.scalars(select(Number.e164)))


def test_help_in_a_direct_space(live):
    room = live.fake.add_room("ops", "direct")
    [reply] = live.say(ADMIN, room, "help")
    assert "upload" in reply["markdown"] and "import" in reply["markdown"]
    assert "parentId" not in reply


def test_csv_import_then_submit_with_the_card_button(live):
    room = live.fake.add_room("ops", "direct")
    data = numbers_csv(["+390212345670", "+390212345671", "12345", "+390212345671"])
    replies = live.say(OPERATOR, room, IMPORT, files=[("numbers.csv", data, "text/csv")])
    preview, card_message = replies
    assert "**2** valid numbers" in preview["markdown"] and "**1** invalid" in preview["markdown"]
    card = card_of(card_message)
    submit = next(a for a in card["actions"] if a["title"] == "Submit")
    assert submit["data"]["action"] == "submit"
    [done] = live.press(OPERATOR, room, card_message, submit["data"])
    assert "submitted" in done["markdown"]
    assert stored_numbers(live.db) == ["+390212345670", "+390212345671"]


def test_xlsx_import(live):
    room = live.fake.add_room("ops", "direct")
    data = numbers_xlsx(["+390212345680", "+390212345681", "+390212345682"])
    replies = live.say(OPERATOR, room, IMPORT,
                       files=[("numbers.xlsx", data,
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")])
    assert "**3** valid numbers" in replies[0]["markdown"]
    assert replies[-1].get("attachments")


def test_upload_card_form_then_preview_then_cancel_button(live):
    room = live.fake.add_room("ops", "direct")
    text, form_message = live.say(OPERATOR, room, "upload roma-cc")
    assert "Upload Numbers" in text["markdown"]
    form = card_of(form_message)
    ids = {e["id"] for e in form["body"] if e["type"].startswith("Input.")}
    assert {"profile", "sip", "type", "cac", "info", "entry_mode", "number", "range_end"} <= ids
    action = form["actions"][0]
    inputs = {**action["data"], "profile": "CC-Default", "sip": "PSTN-Milan", "type": "contact-center",
              "cac": "", "info": "IVR", "entry_mode": "range", "number": "+390212345600", "range_end": "09"}
    preview, buttons = live.press(OPERATOR, room, form_message, inputs)
    assert "**10** valid numbers" in preview["markdown"]
    cancel = next(a for a in card_of(buttons)["actions"] if a["title"] == "Cancel")
    [cancelled] = live.press(OPERATOR, room, buttons, cancel["data"])
    assert "cancelled" in cancelled["markdown"]
    assert stored_numbers(live.db) == []


def test_typed_upload_and_submit_in_a_group_space_with_mentions(live):
    room = live.fake.add_room("Ops team", "group")
    replies = live.say(OPERATOR, room, "upload roma-cc profile=CC-Default sip=PSTN-Milan type=service +390212345690",
                       mentions_bot=True)
    assert "**1** valid number" in replies[0]["markdown"]
    [done] = live.say(OPERATOR, room, "submit", mentions_bot=True)
    assert "submitted" in done["markdown"]
    assert stored_numbers(live.db) == ["+390212345690"]


def test_group_message_without_a_mention_gets_no_answer(live):
    room = live.fake.add_room("Ops team", "group")
    assert live.say(ADMIN, room, "help") == []


def test_reply_goes_into_the_thread_of_the_message(live):
    room = live.fake.add_room("Ops team", "group")
    parent = live.fake.user_message(ADMIN, room, "numbers for roma?")
    [reply] = live.say(OPERATOR, room, "leads roma", parent_id=parent["id"], mentions_bot=True)
    assert reply["parentId"] == parent["id"]


def test_template_files_are_attached_one_per_message(live):
    room = live.fake.add_room("ops", "direct")
    replies = live.say(OPERATOR, room, "template")
    files = [url for message in replies for url in message.get("files", [])]
    names = sorted(live.fake.file_info(url).name for url in files)
    assert len(files) == 2 and all(len(m.get("files", [])) <= 1 for m in replies)
    assert names[0].endswith(".csv") and names[1].endswith(".xlsx")
    assert b"Number" in live.fake.file_bytes(next(u for u in files if live.fake.file_info(u).name.endswith(".csv")))


def test_unknown_person_is_refused_politely_and_audited(live):
    room = live.fake.add_room("mallory", "direct")
    [reply] = live.say(STRANGER, room, "leads")
    assert "not an operator" in reply["markdown"]
    with live.db.sessions() as session:
        refusals = session.scalars(select(AuditEntry).where(AuditEntry.actor == STRANGER)).all()
    assert [a.action for a in refusals] == ["access.refused"]


def test_the_bots_own_messages_trigger_nothing(live):
    room = live.fake.add_room("ops", "direct")
    state = live.fake.state
    own = state.create_message(state.bot, state.room(room), text="help", markdown="help")
    for response in live.fake.deliver_message({k: v for k, v in own.items() if not k.startswith("_")}):
        assert response.status_code == 202
    live.wait_processed(own["id"])
    assert len(live.fake.bot_messages(room)) == 1  # only the message itself


def test_a_file_still_being_scanned_is_waited_for(live):
    room = live.fake.add_room("ops", "direct")
    message = live.fake.user_message(OPERATOR, room, IMPORT,
                                     files=[("numbers.csv", numbers_csv(["+390212345700"]), "text/csv")])
    live.fake.scan_pending(message["files"][0], times=2)
    assert [r.status_code for r in live.fake.deliver_message(message)] == [202]
    assert live.wait_processed(message["id"]) == "done"
    assert "**1** valid number" in live.fake.bot_messages(room)[0]["markdown"]
    assert live.sleeps == [1.0, 1.0]  # the fake's Retry-After, honoured twice


def test_an_attachment_over_the_limit_is_refused_before_download(make_live):
    live = make_live(max_file_bytes=1000)
    room = live.fake.add_room("ops", "direct")
    big = numbers_csv([f"+3902123{n:05d}" for n in range(200)])
    [reply] = live.say(OPERATOR, room, IMPORT, files=[("big.csv", big, "text/csv")])
    assert "limit" in reply["markdown"]
    assert not [r for r in live.fake.requests if r.method == "GET" and "/contents/" in r.path]
    with live.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0


def test_a_download_that_keeps_failing_is_reported_to_the_operator(live):
    room = live.fake.add_room("ops", "direct")
    message = live.fake.user_message(OPERATOR, room, IMPORT,
                                     files=[("numbers.csv", numbers_csv(["+390212345700"]), "text/csv")])
    live.fake.fail_next("GET", "/contents/", 503, times=100)
    assert [r.status_code for r in live.fake.deliver_message(message)] == [202]
    assert live.wait_processed(message["id"]) == "done"
    [reply] = live.fake.bot_messages(room)
    assert "couldn't download `numbers.csv` from Webex (HTTP 503" in reply["markdown"]
    assert "Nothing was stored" in reply["markdown"]
    with live.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Upload)) == 0
