"""What the transport guarantees against the fake Webex: signatures, once-only, retries, limits."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.outbox import flush_outbox
from bot.replies import MAX_MESSAGE_BYTES
from bot.webhooks_admin import register_webhooks
from handlers.base import Reply, Services
from store.models import OutboxMessage, WebhookEvent
from tests.support.live import ADMIN, OPERATOR, fast_client
from tests.support.processes import SECRET


def event_count(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(WebhookEvent))



def test_forged_and_missing_signatures_are_refused_and_nothing_happens(live):
    room = live.fake.add_room("ops", "direct")
    message = live.fake.user_message(OPERATOR, room, "leads")
    envelope = live.fake.message_envelope(message)
    assert live.fake.deliver(envelope, signature="0" * 40).status_code == 401
    assert live.fake.deliver(envelope, secret="guessed-secret").status_code == 401
    assert live.fake.deliver(envelope, secret="").status_code == 401  # unsigned
    assert event_count(live.db) == 0
    assert live.fake.bot_messages(room) == []


def test_a_redelivered_event_is_answered_once(live):
    room = live.fake.add_room("ops", "direct")
    message = live.fake.user_message(OPERATOR, room, "leads")
    envelope = live.fake.message_envelope(message)
    statuses = [live.fake.deliver(envelope).status_code for _ in range(3)]
    assert statuses == [202, 202, 202]
    live.wait_processed(message["id"])
    assert live.fake.deliver(envelope).json() == {"accepted": True, "duplicate": True}
    assert len(live.fake.bot_messages(room)) == 1
    assert event_count(live.db) == 1


def test_a_long_reply_is_split_at_line_boundaries(make_live):
    lines = [f"| roma-{n:04d} | Ready | +3902{n:08d} |" for n in range(600)]
    live = make_live(dispatch=lambda services, request: Reply("\n".join(["| s | status | n |", "|---|---|---|", *lines])))
    room = live.fake.add_room("ops", "direct")
    replies = live.say(OPERATOR, room, "leads")
    assert len(replies) > 1
    assert all(len(r["markdown"].encode()) <= MAX_MESSAGE_BYTES for r in replies)
    received = [line for r in replies for line in r["markdown"].split("\n") if line.startswith("| roma-")]
    assert received == lines


def test_a_huge_reply_is_sent_as_a_markdown_file(make_live):
    text = "\n".join(f"- +3902{n:08d} live" for n in range(5000))
    live = make_live(dispatch=lambda services, request: Reply(text))
    room = live.fake.add_room("ops", "direct")
    [reply] = live.say(OPERATOR, room, "numbers roma")
    [url] = reply["files"]
    assert live.fake.file_info(url).name == "reply.md"
    assert live.fake.file_bytes(url).decode() == text


def test_server_errors_on_the_reply_are_retried_and_the_reply_is_posted_once(live):
    room = live.fake.add_room("ops", "direct")
    live.fake.fail_next("POST", "/v1/messages$", 503, times=2)
    replies = live.say(OPERATOR, room, "leads")
    assert len(replies) == 1 and "roma-cc" in replies[0]["markdown"]


def test_a_reply_that_finally_fails_is_reported_to_the_operator(live):
    room = live.fake.add_room("ops", "direct")
    live.fake.fail_next("POST", "/v1/messages$", 502, times=4)  # every attempt of the reply
    message = live.fake.user_message(OPERATOR, room, "leads")
    live.fake.deliver_message(message)
    assert live.wait_processed(message["id"]) == "failed"
    [notice] = live.fake.bot_messages(room)
    assert notice["markdown"].startswith("⚠️ I could not deliver my reply (HTTP 502")


def test_rate_limited_reading_of_the_message_is_waited_out(live):
    room = live.fake.add_room("ops", "direct")
    live.fake.fail_next("GET", "/v1/messages/", 429, headers={"Retry-After": "7"})
    [reply] = live.say(OPERATOR, room, "leads")
    assert "roma-cc" in reply["markdown"]
    assert live.sleeps == [7.0]


def test_webhook_registration_is_idempotent_and_reactivates_disabled_hooks(live):
    first = sorted(h["id"] for h in live.fake.webhooks)
    assert len(first) == 2
    live.fake.disable_webhook(first[0])
    again = register_webhooks(fast_client(live.fake), live.url, SECRET)
    hooks = live.fake.webhooks
    assert sorted(again) == first and len(hooks) == 2
    assert {(h["resource"], h["event"], h["status"], h["targetUrl"], h["secret"]) for h in hooks} == {
        ("messages", "created", "active", live.url, SECRET),
        ("attachmentActions", "created", "active", live.url, SECRET)}
    assert all(not h.get("filter") for h in hooks)


def test_registration_repoints_our_hooks_and_drops_duplicates(live):
    client = fast_client(live.fake)
    sdk = client.sdk  # someone else's hooks, made straight through the SDK
    new_url = live.url.replace("/webhooks/webex", "/moved/webhooks/webex")
    sdk.webhooks.create(name="copy", targetUrl=new_url, resource="messages", event="created", secret="x")
    sdk.webhooks.create(name="filtered", targetUrl=new_url, resource="attachmentActions", event="created",
                        filter="roomId=R", secret="x")
    sdk.webhooks.create(name="someone else's", targetUrl="http://127.0.0.1:9/other", resource="messages",
                        event="created", secret="theirs")
    register_webhooks(client, new_url, "new-secret")
    hooks = live.fake.webhooks
    assert sorted((h["resource"], h["targetUrl"], h["secret"]) for h in hooks) == sorted([
        ("attachmentActions", new_url, "new-secret"), ("messages", "http://127.0.0.1:9/other", "theirs"),
        ("messages", new_url, "new-secret")])
    assert not any(h.get("filter") for h in hooks)


def test_outbox_messages_are_posted_with_the_sdk_once(live):
    room = live.fake.add_room("ops", "direct")
    with live.db.sessions.begin() as session:
        session.add(OutboxMessage(room_id=room, markdown="✅ roma-cc is Ready: 2 numbers live in Webex",
                                  dedupe_key="ready:1"))
    services = Services(live.db, live.settings)
    client = fast_client(live.fake)
    assert flush_outbox(services, client) == 1
    assert flush_outbox(services, client) == 0
    assert [m["markdown"] for m in live.fake.bot_messages(room)] == [
        "✅ roma-cc is Ready: 2 numbers live in Webex"]


def test_no_token_or_secret_reaches_the_logs(live, caplog):
    caplog.set_level("DEBUG")
    room = live.fake.add_room("ops", "direct")
    live.fake.fail_next("POST", "/v1/messages$", 500)
    live.say(OPERATOR, room, "leads")
    bad = live.fake.user_message(ADMIN, room, "help")
    live.fake.deliver(live.fake.message_envelope(bad), secret="wrong")
    logged = "\n".join(r.getMessage() for r in caplog.records) + json.dumps(
        [str(r.args) for r in caplog.records])
    assert live.fake.bot_token not in logged and SECRET not in logged
    assert "retry" in logged  # the 500 was logged, safely
