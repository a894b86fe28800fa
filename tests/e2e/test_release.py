"""Release end to end: a webhook message and a card button, the sync engine's DELETEs over real HTTP
to the fake Webex, the poll, and the notice sent once (SPEC §5.3), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from bot.outbox import flush_outbox
from provisioning.services import Services
from provisioning.settings import Settings
from provisioning.sync.engine import run_due_sync
from store.models import Number, NumberHistory
from tests.support.live import OPERATOR, card_of, fast_client, numbers_adapter
from tests.support.waiting import wait_until

ORG, LOC = "ORG-ROMA", "LOC-MILAN"
ROMA = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"
SETTINGS = Settings(sync_poll_seconds=60)


def sync(live):
    """One sync pass on the real clock (the outbox sends what is due now)."""
    return run_due_sync(live.db, numbers_adapter(live.fake), SETTINGS, worker_id="w")


def deliver(live) -> None:
    """Send what the outbox holds (the running bot's transport may have sent it already)."""
    flush_outbox(Services(live.db, live.settings), fast_client(live.fake))


def posted(live, room: str, text: str) -> int:
    return sum(1 for m in live.fake.bot_messages(room) if m["markdown"] == text)


def eventually_posted(live, room: str, needle: str) -> bool:
    return wait_until(lambda: any(needle in m["markdown"] for m in live.fake.bot_messages(room)))


def test_release_by_card_button_deletes_in_fives_and_posts_released_once(live):
    room = live.fake.add_room("ops", "direct")
    live.say(OPERATOR, room, f"{ROMA} +390212345600-611")
    live.say(OPERATOR, room, "submit")
    sync(live)
    assert len(live.fake.numbers_of(ORG, LOC)) == 12
    deliver(live)

    preview, card_message = live.say(OPERATOR, room, "release roma-cc +390212345600-611")
    assert "**12** numbers of this service to release" in preview["markdown"]
    submit = next(a for a in card_of(card_message)["actions"] if a["title"] == "Submit")
    [done] = live.press(OPERATOR, room, card_message, submit["data"])
    assert "Release #2 submitted" in done["markdown"]
    assert "Removing" in live.say(OPERATOR, room, "status roma-cc")[0]["markdown"]

    report = sync(live)
    assert report.remove_requests == 3
    assert [len(numbers) for _, _, numbers in live.fake.remove_requests] == [5, 5, 2]
    deletes = [r for r in live.fake.requests if r.method == "DELETE"]
    assert {(r.path, r.query.get("orgId")) for r in deletes} == {(f"/v1/telephony/config/locations/{LOC}/numbers",
                                                                   ORG)}
    assert live.fake.numbers_of(ORG, LOC) == {}
    for _ in range(2):
        sync(live)
    deliver(live)
    deliver(live)
    assert eventually_posted(live, room, "numbers released")
    assert posted(live, room, "✅ `roma-cc`: 12 numbers released") == 1
    with live.db.sessions() as session:
        assert session.scalars(select(Number)).all() == []
        assert {h.released_at is not None for h in session.scalars(select(NumberHistory))} == {True}
    assert len(live.fake.remove_requests) == 3


def test_the_location_main_number_stays_live_with_webex_reason_and_the_operator_is_told(live):
    room = live.fake.add_room("ops", "direct")
    live.say(OPERATOR, room, f"{ROMA} +390212345600-602")
    live.say(OPERATOR, room, "submit")
    sync(live)
    live.fake.set_main_number(ORG, LOC, "+390212345601")
    live.say(OPERATOR, room, "release roma-cc +390212345600-602")
    live.say(OPERATOR, room, "submit")
    sync(live)
    assert sorted(live.fake.numbers_of(ORG, LOC)) == ["+390212345601"]
    deliver(live)
    assert eventually_posted(live, room, "Webex refused to remove `+390212345601`")
    assert eventually_posted(live, room, "✅ `roma-cc`: 2 numbers released")
    refused = next(m["markdown"] for m in live.fake.bot_messages(room) if "refused to remove" in m["markdown"])
    assert "main number" in refused
    status = live.say(OPERATOR, room, "status roma-cc")[0]["markdown"]
    assert "Ready" in status and "main number" in status


def test_the_fake_refuses_more_than_five_numbers_like_webex(fake_webex):
    fake_webex.add_live_numbers(ORG, LOC, [f"+39021234560{i}" for i in range(6)])
    response = requests.delete(f"{fake_webex.base_url}telephony/config/locations/{LOC}/numbers",
                               params={"orgId": ORG}, timeout=5,
                               headers={"Authorization": f"Bearer {fake_webex.partner_token}"},
                               json={"phoneNumbers": [f"+39021234560{i}" for i in range(6)]})
    assert response.status_code == 400 and "maximum" in response.json()["message"]
    assert len(fake_webex.numbers_of(ORG, LOC)) == 6
    with pytest.raises(ValueError):
        numbers_adapter(fake_webex).remove_numbers(ORG, LOC, [f"+39021234560{i}" for i in range(6)])
