"""From a recorded event to a handler request and back: who is ignored, what the handler sees."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.incoming import strip_mention
from handlers.base import Reply
from store.models import WebhookEvent
from tests.webhook.conftest import BOT_ID, drain, envelope, post_event

ME = {"id": BOT_ID, "displayName": "Leads Bot", "nickName": "Leads", "firstName": "Leads"}


def deliver(app, client, event_id: str, **data) -> None:
    assert post_event(client, envelope(event_id, **data)).status_code == 202
    drain(app)


def test_the_bots_own_message_is_dropped_without_fetching_it(app, client, webex, recorded):
    deliver(app, client, "MSG-1", personId=BOT_ID)
    assert recorded.requests == [] and webex.sent == []
    assert not any(call.startswith("get_message") for call in webex.calls)


def test_a_message_authored_by_the_bot_is_dropped_after_fetching(app, client, webex, recorded):
    webex.add_message("MSG-1", "✅ roma-cc is Ready", personId=BOT_ID)
    deliver(app, client, "MSG-1")
    assert recorded.requests == [] and webex.sent == []


def test_direct_message_reaches_the_handler_and_the_reply_goes_to_the_room(app, client, webex, recorded):
    webex.add_message("MSG-1", "  leads roma  ", email="eve@acme.example")
    deliver(app, client, "MSG-1")
    [request] = recorded.requests
    assert (request.email, request.room_id, request.text, request.room_type) == (
        "eve@acme.example", "ROOM-1", "leads roma", "direct")
    assert request.message_id == "MSG-1" and request.attachments == ()
    assert webex.sent == [("ROOM-1", Reply("you said: leads roma"), None)]


def test_group_message_has_the_mention_stripped_and_the_reply_is_threaded(app, client, webex, recorded):
    html = (f'<p><spark-mention data-object-type="person" data-object-id="{BOT_ID}">leadsbot'
            "</spark-mention> status roma-cc</p>")
    webex.add_message("MSG-1", "leadsbot status roma-cc", roomType="group", html=html,
                      mentionedPeople=[BOT_ID], parentId="PARENT-1")
    deliver(app, client, "MSG-1")
    [request] = recorded.requests
    assert (request.text, request.room_type, request.parent_id) == ("status roma-cc", "group", "PARENT-1")
    assert webex.sent[0][2] == "PARENT-1"


def test_group_message_not_mentioning_the_bot_is_ignored(app, client, webex, recorded):
    webex.add_message("MSG-1", "lunch?", roomType="group", mentionedPeople=["SOMEONE"])
    deliver(app, client, "MSG-1")
    assert recorded.requests == [] and webex.sent == []


def test_a_reply_that_cannot_be_sent_is_reported_and_the_handler_is_not_rerun(app, client, db, webex, recorded):
    webex.add_message("MSG-1", "submit")

    def refuse(room_id, reply, parent_id=None):
        webex.sent.append((room_id, reply, parent_id))
        if not reply.markdown.startswith("⚠️"):
            raise OSError("connection reset")
        return ["NOTICE"]

    webex.send_reply = refuse
    deliver(app, client, "MSG-1")
    assert len(recorded.requests) == 1
    assert webex.sent[-1][1].markdown.startswith("⚠️ I could not deliver my reply (OSError)")
    with db.sessions() as session:
        event = session.scalar(select(WebhookEvent))
    assert (event.state, event.error) == ("failed", "reply not delivered: OSError")
    assert drain(app) == 0


@pytest.mark.parametrize("text, html, expected", [
    ("Leads Bot help", f'<spark-mention data-object-id="{BOT_ID}">Leads Bot</spark-mention> help', "help"),
    ("Leads upload roma-cc", f'<spark-mention data-object-id="{BOT_ID}">Leads</spark-mention> upload roma-cc',
     "upload roma-cc"),
    ("Leads Bot, tenant Acme Ann", (f'<spark-mention data-object-id="{BOT_ID}">Leads Bot</spark-mention>, '
                                    'tenant Acme <spark-mention data-object-id="ANN">Ann</spark-mention>'),
     "tenant Acme Ann"),
    ("Leads Bot leads", None, "leads"),
    ("leads bot numbers +39", None, "numbers +39"),
    ("help", None, "help"),
])
def test_strip_mention(text, html, expected):
    assert strip_mention(text, html, ME) == expected


def test_strip_mention_accepts_the_uuid_form_of_the_bot_id():
    import base64

    person_id = base64.urlsafe_b64encode(b"ciscospark://us/PEOPLE/1234-abcd").decode().rstrip("=")
    html = '<spark-mention data-object-id="1234-abcd">Leads Bot</spark-mention> template'
    assert strip_mention("Leads Bot template", html, {"id": person_id, "displayName": "Leads Bot"}) == "template"
