"""The Flask app of the fake: auth, people, rooms, messages, files, card actions, webhooks."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import orgauth
from . import telephony as telephony_routes
from .responses import error_response, int_arg, json_response, next_link
from .state import ADAPTIVE_CARD, WebexError, check_length, now_iso, public, webex_id

if TYPE_CHECKING:
    from .server import FakeWebex

MAX_EDITS = 10  # Webex: "a message you have posted, not more than 10 times"
UNAUTHORIZED = "The request requires a valid access token set in the Authorization request header."
OWN_AUTH = ("/v1/access_token", "/v1/applications/")  # these check their credentials themselves


def create_app(fake: FakeWebex) -> Flask:
    """Build the Flask app serving `fake`'s state under /v1/."""
    app = Flask("fakewebex")
    state = fake.state

    @app.before_request
    def record_fail_authenticate() -> Response | None:
        fake.faults.record(request)
        injected = fake.faults.intercept(request.method, request.path)
        if injected is not None:
            return injected
        if request.path.startswith(OWN_AUTH):
            return None
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return error_response(401, UNAUTHORIZED)
        if request.path.startswith("/v1/telephony/"):
            if token in state.tokens and fake.orgauth.kind(token) is None:
                return error_response(403, orgauth.NOT_ALLOWED)  # the bot token (SPEC §5.1)
            return fake.orgauth.check_admin(token, request.args.get("orgId") or state.org_id)
        if token not in state.tokens and fake.orgauth.kind(token) is None:
            return error_response(401, UNAUTHORIZED)
        return None

    @app.errorhandler(WebexError)
    def webex_error(err: WebexError) -> Response:
        return error_response(err.status, err.message, **err.extra)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        return error_response(err.code or 500, err.description or err.name)

    _people_and_rooms(app, fake)
    _messages(app, fake)
    _contents(app, fake)
    _actions_and_webhooks(app, fake)
    telephony_routes.register(app, fake.telephony)
    orgauth.register(app, fake.orgauth)
    return app


def _page(items: list[dict], default_max: int) -> Response:
    """One page of an `items` list, paged with an opaque offset cursor like Webex's."""
    start, size = int_arg("cursor", 0), int_arg("max", default_max, minimum=1)
    more = start + size < len(items)
    headers = next_link(cursor=start + size, max=size) if more else None
    page = [public(i) for i in items[start : start + size]]
    return json_response({"items": page}, headers=headers)


def _people_and_rooms(app: Flask, fake: FakeWebex) -> None:
    state = fake.state

    @app.get("/v1/people/me")
    def people_me() -> Response:
        return json_response(public(state.bot))

    @app.get("/v1/people/<person_id>")
    def people_get(person_id: str) -> Response:
        return json_response(public(state.person(person_id)))

    @app.get("/v1/people")
    def people_list() -> Response:
        email = request.args.get("email")
        with state.lock:
            people = [p for p in state.people.values()
                      if not email or email.lower() in (e.lower() for e in p["emails"])]
        return _page(people, 100)

    @app.get("/v1/rooms/<room_id>")
    def rooms_get(room_id: str) -> Response:
        return json_response(public(state.room(room_id)))

    @app.get("/v1/rooms")
    def rooms_list() -> Response:
        kind = request.args.get("type")
        with state.lock:
            rooms = [r for r in state.rooms.values() if not kind or r["type"] == kind]
        return _page(rooms, 100)


def _message_target(body: dict[str, Any], fake: FakeWebex) -> dict:
    """The room a new message goes to: roomId, or the 1:1 space with toPersonId/Email."""
    state = fake.state
    targets = [k for k in ("roomId", "toPersonId", "toPersonEmail") if body.get(k)]
    if len(targets) != 1:
        raise WebexError(400, "Exactly one of roomId, toPersonId or toPersonEmail is required.")
    if body.get("roomId"):
        return state.room(body["roomId"])
    if body.get("toPersonId"):
        return state.direct_room_with(state.person(body["toPersonId"]))
    return state.direct_room_with(state.ensure_person(body["toPersonEmail"]))


def _message_files(body: dict[str, Any], fake: FakeWebex) -> list[str]:
    """Store an uploaded multipart file, or accept a URL this fake already serves."""
    uploads = request.files.getlist("files") if request.mimetype == "multipart/form-data" else []
    urls = body.get("files") or []
    if isinstance(urls, str):
        urls = [urls]
    if len(uploads) + len(urls) > 1:
        raise WebexError(400, "Only one file may be included with a message.")
    stored = []
    for upload in uploads:
        name = upload.filename or "file"
        guessed = mimetypes.guess_type(name)[0]
        content_type = upload.mimetype or guessed or "application/octet-stream"
        stored.append(fake.state.store_file(name, upload.read(), content_type))
    for url in urls:
        try:
            fake.state.file_for_url(url)
        except KeyError:
            raise WebexError(400, f"The fake cannot fetch remote files: {url}") from None
        stored.append(url)
    return stored


def _check_attachments(attachments: Any) -> list[dict] | None:
    if attachments in (None, []):
        return None
    if not isinstance(attachments, list) or len(attachments) > 1:
        raise WebexError(400, "Only one attachment per message is supported.")
    card = attachments[0]
    if not isinstance(card, dict) or card.get("contentType") != ADAPTIVE_CARD:
        raise WebexError(400, f"Attachment contentType must be {ADAPTIVE_CARD}.")
    if not isinstance(card.get("content"), dict):
        raise WebexError(400, "Attachment content must be an Adaptive Card object.")
    return attachments


def _messages(app: Flask, fake: FakeWebex) -> None:
    state = fake.state

    @app.post("/v1/messages")
    def messages_create() -> Response:
        if request.mimetype == "multipart/form-data":
            body: dict[str, Any] = dict(request.form.items())
        else:
            body = request.get_json(silent=True) or {}
        room = _message_target(body, fake)
        message = state.create_message(
            state.bot,
            room,
            text=body.get("text"),
            markdown=body.get("markdown"),
            file_urls=_message_files(body, fake),
            attachments=_check_attachments(body.get("attachments")),
            parent_id=body.get("parentId"),
        )
        return json_response(public(message))

    @app.get("/v1/messages/<message_id>")
    def messages_get(message_id: str) -> Response:
        return json_response(public(state.message(message_id)))

    @app.put("/v1/messages/<message_id>")
    def messages_update(message_id: str) -> Response:
        message = state.message(message_id)
        body = request.get_json(silent=True) or {}
        if message["personId"] != state.bot["id"]:
            raise WebexError(403, "Only the author can edit a message.")
        if body.get("roomId") != message["roomId"]:
            raise WebexError(400, "roomId is required and must be the message's room.")
        text, markdown = body.get("text"), body.get("markdown")
        if not (text or markdown):
            raise WebexError(400, "text or markdown is required.")
        if "html" in body:
            raise WebexError(400, "An edit carries text or markdown, not html.")
        if message.get("files") or message.get("attachments"):
            raise WebexError(400, "Editing a message with files or attachments is currently unsupported.")
        if len(message.get("_edits", ())) >= MAX_EDITS:
            raise WebexError(400, f"The edit limit of {MAX_EDITS} edits per message has been reached.")
        check_length(text, markdown)
        with state.lock:
            message.setdefault("_edits", []).append(markdown if markdown is not None else text)
            message["text"] = text if text is not None else markdown
            if markdown is not None:
                message["markdown"] = markdown
            message["updated"] = now_iso()
        return json_response(public(message))

    @app.delete("/v1/messages/<message_id>")
    def messages_delete(message_id: str) -> Response:
        message = state.message(message_id)
        if message["personId"] != state.bot["id"]:
            raise WebexError(403, "A bot can delete only its own messages.")
        with state.lock:
            del state.messages[message_id]
        return Response(status=204)

    @app.get("/v1/messages")
    def messages_list() -> Response:
        room_id = request.args.get("roomId")
        if not room_id:
            raise WebexError(400, "roomId is required.")
        state.room(room_id)
        found = state.room_messages(room_id)
        if request.args.get("parentId"):
            found = [m for m in found if m.get("parentId") == request.args["parentId"]]
        mentioned = request.args.get("mentionedPeople")
        if mentioned:
            who = state.bot["id"] if mentioned == "me" else mentioned
            found = [m for m in found if who in m.get("mentionedPeople", [])]
        if request.args.get("before"):
            found = [m for m in found if m["created"] < request.args["before"]]
        cursor = request.args.get("beforeMessage")
        if cursor:
            ids = [m["id"] for m in found]
            if cursor not in ids:
                raise WebexError(400, "Invalid beforeMessage.")
            found = found[ids.index(cursor) + 1 :]
        size = int_arg("max", 50, minimum=1)
        page = found[:size]
        headers = next_link(beforeMessage=page[-1]["id"]) if len(found) > size else None
        return json_response({"items": [public(m) for m in page]}, headers=headers)


def _contents(app: Flask, fake: FakeWebex) -> None:
    @app.get("/v1/contents/<content_id>")
    def contents_get(content_id: str) -> Response:
        """Serves GET and HEAD; while a scan is pending both answer 423 Retry-After."""
        with fake.state.lock:
            stored = fake.state.files.get(content_id)
            if stored is None:
                raise WebexError(404, "The requested file could not be found.")
            if stored.scans_left > 0:
                stored.scans_left -= 1
                return error_response(
                    423, "File is being scanned for malware.", headers={"Retry-After": "1"}
                )
        response = Response(stored.data, content_type=stored.content_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{stored.name}"'
        response.headers["Content-Length"] = str(len(stored.data))
        return response


def _actions_and_webhooks(app: Flask, fake: FakeWebex) -> None:
    state = fake.state

    @app.get("/v1/attachment/actions/<action_id>")
    def actions_get(action_id: str) -> Response:
        with state.lock:
            action = state.actions.get(action_id)
        if action is None:
            raise WebexError(404, "Attachment action not found.")
        return json_response(public(action))

    @app.post("/v1/webhooks")
    def webhooks_create() -> Response:
        body = request.get_json(silent=True) or {}
        missing = [k for k in ("name", "targetUrl", "resource", "event") if not body.get(k)]
        if missing:
            raise WebexError(400, f"Missing required field(s): {', '.join(missing)}.")
        hook = {
            "id": webex_id("WEBHOOK"),
            "name": body["name"],
            "targetUrl": body["targetUrl"],
            "resource": body["resource"],
            "event": body["event"],
            "orgId": state.org_id,
            "createdBy": state.bot["id"],
            "appId": fake.app_id,
            "ownedBy": body.get("ownedBy", "creator"),
            "status": "active",
            "created": now_iso(),
        }
        for key in ("filter", "secret"):
            if body.get(key):
                hook[key] = body[key]
        with state.lock:
            state.webhooks[hook["id"]] = hook
        return json_response(hook)

    @app.get("/v1/webhooks")
    def webhooks_list() -> Response:
        with state.lock:
            hooks = list(state.webhooks.values())
        return _page(hooks, 100)

    @app.get("/v1/webhooks/<hook_id>")
    def webhooks_get(hook_id: str) -> Response:
        return json_response(_hook(fake, hook_id))

    @app.put("/v1/webhooks/<hook_id>")
    def webhooks_update(hook_id: str) -> Response:
        hook = _hook(fake, hook_id)
        body = request.get_json(silent=True) or {}
        missing = [k for k in ("name", "targetUrl") if not body.get(k)]
        if missing:
            raise WebexError(400, f"Missing required field(s): {', '.join(missing)}.")
        if body.get("status", "active") not in ("active", "inactive", "disabled"):
            raise WebexError(400, "status must be 'active' or 'inactive'.")
        with state.lock:
            hook.update({k: body[k] for k in ("name", "targetUrl", "secret", "ownedBy", "status")
                         if k in body})
        return json_response(hook)

    @app.delete("/v1/webhooks/<hook_id>")
    def webhooks_delete(hook_id: str) -> Response:
        _hook(fake, hook_id)
        with state.lock:
            del state.webhooks[hook_id]
        return Response(status=204)


def _hook(fake: FakeWebex, hook_id: str) -> dict:
    with fake.state.lock:
        hook = fake.state.webhooks.get(hook_id)
    if hook is None:
        raise WebexError(404, "Webhook not found.")
    return hook
