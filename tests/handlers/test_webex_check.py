"""Webex's own check in previews (provisioning/uploads/webex_check.py) with a scripted checker: who is
asked, in which batches, within what budget, and what the preview says when Webex cannot answer."""
from __future__ import annotations

import pytest

from handlers import Services
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from provisioning.sync.port import ConsentMissing
from provisioning.uploads import webex_check
from tests.support.chat import Chat

UPLOAD = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center "


class Checker:
    """Answers like Webex: Available unless listed in `in_use`; records each call."""

    def __init__(self, in_use=(), error: Exception | None = None, on_call=None) -> None:
        self.in_use, self.error, self.on_call, self.calls = set(in_use), error, on_call, []

    def validate_numbers(self, org_id, numbers, timeout):
        self.calls.append((org_id, len(numbers), timeout))
        if self.on_call:
            self.on_call()
        if self.error:
            raise self.error
        return {n: ("Duplicate", "DN is in use") if n in self.in_use else ("Available", "") for n in numbers}


def chat_with(db, checker) -> Chat:
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    chat = Chat(Services(db=db, settings=Settings(), number_check=checker))
    chat.say("tenant Acme SP")
    return chat


def test_numbers_go_in_batches_of_500_within_the_budget(db):
    checker = Checker(in_use={"+390222001100"})
    reply = chat_with(db, checker).say(UPLOAD + "+390222000000-1199").markdown
    assert [(org, size) for org, size, _ in checker.calls] == [("ORG-ROMA", 500), ("ORG-ROMA", 500), ("ORG-ROMA", 200)]
    assert all(0 < timeout <= webex_check.BUDGET_SECONDS for _, _, timeout in checker.calls)
    assert "**1,199** valid numbers" in reply and "**1** invalid" in reply
    assert "Webex says Duplicate: `DN is in use`" in reply and "Checked with the customer's Webex" in reply


def test_more_than_10000_numbers_are_checked_locally_only(db):
    checker = Checker()
    reply = chat_with(db, checker).say(UPLOAD + "+390222000000-010000").markdown
    assert checker.calls == [] and "**10,001** valid numbers" in reply and "Checked locally only" in reply


def test_a_non_integrated_service_is_not_checked(db):
    checker = Checker()
    reply = chat_with(db, checker).say("upload roma-cx profile=CC-Default sip=PSTN-Milan type=contact-center "
                                       "+390222000000").markdown
    assert checker.calls == [] and "Checked" not in reply


@pytest.mark.parametrize("error", [ConsentMissing("ORG-ROMA", "no consent"), ValueError("odd answer")])
def test_a_failing_check_never_fails_the_preview(db, error):
    reply = chat_with(db, Checker(error=error)).say(UPLOAD + "+390222000000-009").markdown
    assert "**10** valid numbers" in reply and "Checked locally only" in reply


def test_out_of_time_stops_asking_and_says_so(db, monkeypatch):
    now = [0.0]
    monkeypatch.setattr(webex_check, "monotonic", lambda: now[0])

    def slow():
        now[0] += webex_check.BUDGET_SECONDS  # this batch used the whole budget

    checker = Checker(on_call=slow)
    reply = chat_with(db, checker).say(UPLOAD + "+390222000000-999").markdown
    assert len(checker.calls) == 1 and "**1,000** valid numbers" in reply and "Checked locally only" in reply


def test_numbers_already_uploaded_are_not_asked_about_and_webex_refusals_are_counted_apart(db):
    checker = Checker(in_use={"+390222000015"})
    chat = chat_with(db, checker)
    chat.say(UPLOAD + "+390222000000-009")
    chat.say("submit")
    checker.calls.clear()
    reply = chat.say(UPLOAD + "+390222000000-019").markdown  # ten stored, ten new of which Webex refuses one
    assert [size for _, size, _ in checker.calls] == [10]
    assert "**9** valid numbers" in reply and "**10** already uploaded to this service" in reply
    assert "Webex says Duplicate" in reply
    assert "**9** numbers stored" in chat.say("submit").markdown
