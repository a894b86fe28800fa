"""Self-tests of the fake Webex cloud, driven through the real webexpythonsdk over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask, request
from webexpythonsdk import ApiError, WebexAPI
from webexpythonsdk.exceptions import RateLimitWarning
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.support.fakewebex import FakeWebex

USER = "ops@acme.example"
ORG, LOC = "ORG-ROMA", "LOC-MILAN"


@pytest.fixture
def api(fake_webex: FakeWebex) -> WebexAPI:
    return WebexAPI(access_token=fake_webex.bot_token, base_url=fake_webex.base_url)


@pytest.fixture
def admin_api(fake_webex: FakeWebex) -> WebexAPI:
    """A partner full admin's token: what telephony endpoints accept (the bot's is refused)."""
    return WebexAPI(access_token=fake_webex.partner_token, base_url=fake_webex.base_url)


@pytest.fixture
def receiver() -> Iterator[tuple[str, list]]:
    """A local webhook target recording each raw body and its headers."""
    calls: list[tuple[bytes, dict]] = []

    @Request.application
    def app(request: Request) -> Response:
        calls.append((request.get_data(), dict(request.headers)))
        return Response(status=204)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/webhooks/webex", calls
    server.shutdown()
    server.server_close()


def bearer(fake: FakeWebex) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.bot_token}"}


def test_people_me_is_the_bot(api: WebexAPI, fake_webex: FakeWebex) -> None:
    me = api.people.me()
    assert me.emails == ["leadsbot@webex.bot"]
    assert me.type == "bot"
    assert me.id == fake_webex.bot["id"]
    person_id = fake_webex.add_person(USER, "Olga Ops")
    assert api.people.get(person_id).displayName == "Olga Ops"


def test_bad_token_is_401_api_error(fake_webex: FakeWebex) -> None:
    bad = WebexAPI(access_token="wrong", base_url=fake_webex.base_url)
    with pytest.raises(ApiError) as caught:
        bad.people.me()
    assert caught.value.status_code == 401
    assert "access token" in caught.value.message


def test_bot_posts_markdown_and_a_file(api, fake_webex, tmp_path) -> None:
    room = fake_webex.add_room("Ops", "group")
    api.messages.create(roomId=room, markdown="**hello**")
    path = tmp_path / "invalid.csv"
    path.write_bytes(b"Row,Value,Reason\n2,+39,too short\n")
    sent = api.messages.create(roomId=room, markdown="see file", files=[str(path)])

    posted = fake_webex.bot_messages(room)
    assert [m["markdown"] for m in posted] == ["**hello**", "see file"]
    assert posted[1]["files"] == sent.files
    assert sent.files[0].startswith(fake_webex.base_url + "contents/")
    assert fake_webex.file_bytes(sent.files[0]) == path.read_bytes()
    assert fake_webex.file_info(sent.files[0]).name == "invalid.csv"
    assert fake_webex.requests[-1].files["files"][0] == "invalid.csv"


def test_direct_message_by_email_and_thread_reply(api, fake_webex) -> None:
    first = api.messages.create(toPersonEmail=USER, text="hi")
    assert first.roomType == "direct"
    reply = api.messages.create(roomId=first.roomId, parentId=first.id, text="in thread")
    assert reply.parentId == first.id
    assert api.rooms.get(first.roomId).type == "direct"


def test_message_list_follows_link_pages(api, fake_webex) -> None:
    room = fake_webex.add_room("Ops", "group")
    for n in range(7):
        fake_webex.user_message(USER, room, text=f"m{n}")
    listed = [m.text for m in api.messages.list(roomId=room, max=3)]
    assert listed == [f"m{n}" for n in reversed(range(7))]
    pages = [r for r in fake_webex.requests if r.method == "GET" and r.path == "/v1/messages"]
    assert len(pages) == 3
    assert "beforeMessage" in pages[1].query


def test_user_file_download_with_scan_pending(api, fake_webex) -> None:
    room = fake_webex.add_room("Olga", "direct")
    sent = fake_webex.user_message(USER, room, text="import roma-cc",
                                   files=[("numbers.csv", b"Number\n+390212345678\n", "text/csv")])
    url = api.messages.get(sent["id"]).files[0]
    fake_webex.scan_pending(url, times=1)

    scanning = requests.get(url, headers=bearer(fake_webex), timeout=5)
    assert scanning.status_code == 423
    assert scanning.headers["Retry-After"] == "1"
    head = requests.head(url, headers=bearer(fake_webex), timeout=5)
    assert head.headers["Content-Length"] == "21"
    assert head.headers["Content-Disposition"] == 'attachment; filename="numbers.csv"'
    done = requests.get(url, headers=bearer(fake_webex), timeout=5)
    assert done.status_code == 200
    assert done.headers["Content-Type"] == "text/csv"
    assert done.content == b"Number\n+390212345678\n"
    assert requests.get(url, timeout=5).status_code == 401


def test_group_mention_prefixes_bot_name(api, fake_webex) -> None:
    room = fake_webex.add_room("Ops", "group")
    fake_webex.user_message(USER, room, text="not for the bot")
    sent = fake_webex.user_message(USER, room, text="leads roma", mentions_bot=True)
    got = api.messages.get(sent["id"])
    assert got.text == "leadsbot leads roma"
    assert got.mentionedPeople == [fake_webex.bot["id"]]
    assert "spark-mention" in got.html
    assert [m.id for m in api.messages.list(roomId=room, mentionedPeople="me")] == [sent["id"]]


def test_message_over_7439_bytes_is_refused(api, fake_webex) -> None:
    room = fake_webex.add_room("Ops", "group")
    with pytest.raises(ApiError) as caught:
        api.messages.create(roomId=room, markdown="é" * 3720)  # 7,440 bytes
    assert caught.value.status_code == 400
    assert "7439" in caught.value.message
    api.messages.create(roomId=room, markdown="x" * 7439)
    assert len(fake_webex.bot_messages(room)) == 1


def test_card_and_attachment_action(api, fake_webex) -> None:
    room = fake_webex.add_room("Olga", "direct")
    card = {"contentType": "application/vnd.microsoft.card.adaptive",
            "content": {"type": "AdaptiveCard", "version": "1.3", "body": []}}
    message = api.messages.create(roomId=room, text="card", attachments=[card])
    action = fake_webex.card_submit(USER, room, message.id, {"service": "roma-cc"})
    got = api.attachment_actions.get(action["id"])
    assert got.type == "submit"
    assert got.messageId == message.id
    assert got.inputs == {"service": "roma-cc"}
    assert got.personId == fake_webex.person(USER)["id"]


def test_webhooks_crud_and_reactivation(api, fake_webex) -> None:
    hook = api.webhooks.create(name="msgs", targetUrl="http://127.0.0.1:9/hook",
                               resource="messages", event="created", secret="s3cret")
    assert hook.status == "active"
    fake_webex.disable_webhook(hook.id)
    assert [h.status for h in api.webhooks.list()] == ["disabled"]
    updated = api.webhooks.update(hook.id, name="msgs", targetUrl="http://127.0.0.1:9/new",
                                  status="active")
    assert (updated.targetUrl, updated.status) == ("http://127.0.0.1:9/new", "active")
    api.webhooks.delete(hook.id)
    assert list(api.webhooks.list()) == []


def test_429_is_retried_by_the_sdk(api, fake_webex) -> None:
    fake_webex.fail_next("GET", r"/v1/people/me$", 429, headers={"Retry-After": "1"})
    with pytest.warns(RateLimitWarning):
        assert api.people.me().type == "bot"
    assert [r.path for r in fake_webex.requests] == ["/v1/people/me"] * 2


def test_injected_5xx_and_slow_answer(api, fake_webex) -> None:
    fake_webex.fail_next("*", r"/v1/rooms/", 503)
    room = fake_webex.add_room("Ops", "group")
    with pytest.raises(ApiError) as caught:
        api.rooms.get(room)
    assert caught.value.status_code == 503
    assert api.rooms.get(room).title == "Ops"
    fake_webex.fail_next("GET", r"/v1/rooms/", None, delay=0.5)
    with pytest.raises(requests.Timeout):
        requests.get(f"{fake_webex.base_url}rooms/{room}", headers=bearer(fake_webex), timeout=0.1)


def test_telephony_add_refuse_and_list_pages(admin_api, fake_webex) -> None:
    api = admin_api
    fake_webex.add_live_numbers(ORG, LOC, ["+390200000001"])
    fake_webex.refuse_numbers({"+390200000002": "Number is reserved"})
    url = fake_webex.base_url + f"telephony/config/locations/{LOC}/numbers"
    body = {"phoneNumbers": ["+390200000003", "+390200000004"], "numberType": "DID",
            "numberUsageType": "SERVICE", "state": "ACTIVE"}
    created = api._session.request("POST", url, 201, params={"orgId": ORG}, json=body)
    assert created.status_code == 201

    body["phoneNumbers"] = ["+390200000001", "+390200000002", "+390200000005"]
    with pytest.raises(ApiError) as caught:
        api._session.request("POST", url, 201, params={"orgId": ORG}, json=body)
    assert caught.value.status_code == 400
    refused = {e["number"]: e for e in caught.value.details["errors"]}
    assert set(refused) == {"+390200000001", "+390200000002"}
    assert refused["+390200000002"]["errorMessage"] == "Number is reserved"
    assert isinstance(refused["+390200000001"]["errorCode"], int)
    assert [len(r.phone_numbers) for r in fake_webex.add_requests] == [2, 3]

    params = {"orgId": ORG, "locationId": LOC, "max": 1}
    pages = list(api._session.get_pages(fake_webex.base_url + "telephony/config/numbers",
                                        params=params))
    assert len(pages) == 4
    rows = [row for page in pages for row in page["phoneNumbers"]]
    assert [r["phoneNumber"] for r in rows] == [f"+39020000000{n}" for n in (1, 3, 4, 5)]
    assert {r["state"] for r in rows} == {"ACTIVE"}
    assert rows[1]["location"] == {"id": LOC, "name": LOC}
    assert rows[1]["isServiceNumber"] is True


def test_telephony_inactive_until_activated(admin_api, fake_webex) -> None:
    api = admin_api
    fake_webex.activate_on_add = False
    url = fake_webex.base_url + f"telephony/config/locations/{LOC}/numbers"
    api._session.request("POST", url, 201, params={"orgId": ORG},
                         json={"phoneNumbers": ["+390200000007"], "state": "ACTIVE"})
    assert fake_webex.numbers_of(ORG, LOC) == {"+390200000007": "INACTIVE"}
    fake_webex.activate(ORG, LOC)
    assert fake_webex.numbers_of(ORG, LOC) == {"+390200000007": "ACTIVE"}


def test_deliver_signs_the_raw_body(fake_webex, receiver) -> None:
    url, calls = receiver
    response = fake_webex.deliver({"id": "x", "data": {"id": "m1"}}, url=url, secret="s3cret")
    assert response.status_code == 204
    body, headers = calls[0]
    expected = hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()
    assert headers["X-Spark-Signature"] == expected
    fake_webex.deliver(b'{"forged": true}', url=url, signature="00" * 20)
    assert calls[1] == (b'{"forged": true}', calls[1][1])
    assert calls[1][1]["X-Spark-Signature"] == "00" * 20


def test_deliver_message_and_action_to_matching_webhooks(
    api, fake_webex, receiver
) -> None:
    url, calls = receiver
    room = fake_webex.add_room("Ops", "group")
    api.webhooks.create(name="m", targetUrl=url, resource="messages", event="created",
                        secret="s1", filter="mentionedPeople=me")
    api.webhooks.create(name="a", targetUrl=url, resource="attachmentActions", event="created",
                        secret="s2")
    off = api.webhooks.create(name="off", targetUrl=url, resource="all", event="all")
    fake_webex.disable_webhook(off.id)

    assert fake_webex.deliver_message(fake_webex.user_message(USER, room, text="chatter")) == []
    message = fake_webex.user_message(USER, room, text="help", mentions_bot=True)
    [response] = fake_webex.deliver_message(message)
    assert response.status_code == 204
    action = fake_webex.card_submit(USER, room, message["id"], {"ok": "yes"})
    fake_webex.deliver_action(action)

    envelopes = [json.loads(body) for body, _ in calls]
    assert [(e["resource"], e["data"]["id"]) for e in envelopes] == [
        ("messages", message["id"]), ("attachmentActions", action["id"])]
    assert "text" not in envelopes[0]["data"] and "inputs" not in envelopes[1]["data"]
    assert envelopes[0]["actorId"] == message["personId"]
    for (body, headers), secret in zip(calls, (b"s1", b"s2")):
        assert headers["X-Spark-Signature"] == hmac.new(secret, body, hashlib.sha1).hexdigest()


def test_deliver_refuses_non_local_targets(fake_webex) -> None:
    with pytest.raises(ValueError):
        fake_webex.deliver({"data": {}}, url="https://example.com/hook")


def test_deliver_with_a_flask_test_client() -> None:
    """`deliver_with` lets e2e tests post straight into an app's test client."""
    app = Flask("target")
    seen: list[bytes] = []

    @app.post("/webhooks/webex")
    def hook() -> tuple[str, int]:
        seen.append(request.get_data())
        return "", 202

    client = app.test_client()
    with FakeWebex(deliver_with=lambda url, body, headers: client.post(
            "/webhooks/webex", data=body, headers=headers)) as fake:
        response = fake.deliver({"data": {"id": "m1"}}, url="http://bot.test/webhooks/webex")
    assert response.status_code == 202
    assert seen == [b'{"data": {"id": "m1"}}']
    assert fake.deliveries[0].status_code == 202
    assert "X-Spark-Signature" not in fake.deliveries[0].headers


def test_message_edit_follows_webex_rules(api, fake_webex, tmp_path) -> None:
    room = fake_webex.add_room("Ops", "group")
    message = api.messages.create(roomId=room, markdown="⏳ 1 of 3")
    edited = api.messages.update(messageId=message.id, roomId=room, markdown="⏳ 2 of 3")
    assert edited.markdown == "⏳ 2 of 3" and fake_webex.bot_messages(room)[0]["markdown"] == "⏳ 2 of 3"
    for missing in ({"markdown": "x"}, {"roomId": room}):  # roomId and text or markdown are required
        with pytest.raises(ApiError) as caught:
            api._session.put(f"messages/{message.id}", json=missing)
        assert caught.value.status_code == 400
    user_message = fake_webex.user_message(USER, room, text="mine")
    with pytest.raises(ApiError) as caught:
        api.messages.update(messageId=user_message["id"], roomId=room, markdown="not yours")
    assert caught.value.status_code == 403
    path = tmp_path / "f.csv"
    path.write_bytes(b"Number\n")
    with_file = api.messages.create(roomId=room, markdown="file", files=[str(path)])
    with pytest.raises(ApiError) as caught:
        api.messages.update(messageId=with_file.id, roomId=room, markdown="edited")
    assert caught.value.status_code == 400 and "unsupported" in caught.value.message
    for n in range(9):  # 10 edits in all
        api.messages.update(messageId=message.id, roomId=room, markdown=f"edit {n}")
    with pytest.raises(ApiError) as caught:
        api.messages.update(messageId=message.id, roomId=room, markdown="eleventh")
    assert caught.value.status_code == 400 and "edit limit" in caught.value.message
