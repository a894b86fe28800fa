"""FakeWebex: an in-process fake of the Webex REST API for end-to-end tests.

The real `webexpythonsdk` talks to it over real HTTP on 127.0.0.1 (ephemeral port), so the
transport, paging, multipart uploads, rate limits and webhook signatures are exercised for
real. Test helpers play the other side: users writing, cards submitted, Control Hub changes.
"""

from __future__ import annotations

import threading
from typing import Any, Iterable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from . import delivery
from .faults import Faults, RecordedRequest
from .orgauth import OrgAuth, ServiceApp
from .routes import create_app
from .state import State, StoredFile, public, webex_id
from .telephony import AddRequest, Telephony

DEFAULT_TOKEN = "fake-bot-token"
PARTNER_TOKEN = "fake-partner-token"


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without the per-request access log line."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeWebex:
    """The fake cloud; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_TOKEN,
        bot_email: str = "leadsbot@webex.bot",
        bot_name: str = "leadsbot",
        extra_tokens: Iterable[str] = (),
        deliver_with: delivery.Sender | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.state = State(bot_email=bot_email, bot_name=bot_name,
                           tokens={bot_token, *extra_tokens})
        self.app_id = webex_id("APPLICATION")
        self.faults = Faults()
        self.telephony = Telephony(self.state.org_id, self.state.lock)
        self.orgauth = OrgAuth(self.state.lock)
        self.partner_token = PARTNER_TOKEN
        self.orgauth.add(PARTNER_TOKEN, "partner")
        self.deliver_with = deliver_with
        self.deliveries: list[delivery.Delivery] = []
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeWebex:
        if self._server is not None:
            return self
        self._server = make_server("127.0.0.1", 0, create_app(self), threaded=True,
                                   request_handler=_QuietHandler)
        self.state.base_url = f"http://127.0.0.1:{self._server.server_port}/v1/"
        # A short poll interval keeps stop() (and so each test's teardown) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        name="fakewebex", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeWebex:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """E.g. "http://127.0.0.1:PORT/v1/" (pass to WebexAPI(base_url=...))."""
        if not self.state.base_url:
            raise RuntimeError("FakeWebex is not started")
        return self.state.base_url

    # identity -------------------------------------------------------------------------------
    @property
    def bot(self) -> dict:
        """The bot's person JSON (GET /people/me)."""
        return public(self.state.bot)

    @property
    def org_id(self) -> str:
        """The bot's organization (the default orgId of telephony calls)."""
        return self.state.org_id

    def add_token(self, token: str) -> None:
        with self.state.lock:
            self.state.tokens.add(token)

    def add_person(self, email: str, display_name: str | None = None) -> str:
        """A Webex user (returns the existing one's ID if the email is known)."""
        return self.state.ensure_person(email, display_name)["id"]

    def person(self, email: str) -> dict:
        found = self.state.person_by_email(email)
        if found is None:
            raise KeyError(email)
        return public(found)

    def add_room(self, title: str, type: str = "direct") -> str:  # noqa: A002 - Webex's name
        return self.state.add_room(title, type)["id"]

    # messages -------------------------------------------------------------------------------
    def user_message(
        self,
        person_email: str,
        room_id: str,
        text: str | None = None,
        markdown: str | None = None,
        files: Iterable[tuple[str, bytes, str]] = (),
        parent_id: str | None = None,
        mentions_bot: bool = False,
    ) -> dict:
        """A message written by a user; a bot mention in a group space prefixes its name.

        Webex puts the mentioned name at the start of `text` (and in `html` as a
        <spark-mention>) and lists the bot in `mentionedPeople`.
        """
        state = self.state
        author = state.ensure_person(person_email)
        room = state.room(room_id)
        urls = [state.store_file(name, data, ctype) for name, data, ctype in files]
        html, mentioned = None, []
        if mentions_bot:
            bot_id, name = state.bot["id"], state.bot["displayName"]
            mentioned = [bot_id]
            body = text if text is not None else (markdown or "")
            if room["type"] == "group":
                html = (f'<p><spark-mention data-object-type="person" data-object-id="{bot_id}">'
                        f"{name}</spark-mention> {body}</p>")
                text = f"{name} {body}"
                if markdown is not None:
                    markdown = f"<@personId:{bot_id}|{name}> {markdown}"
        message = state.create_message(author, room, text=text, markdown=markdown, html=html,
                                       file_urls=urls, parent_id=parent_id, mentioned=mentioned)
        return public(message)

    def messages(self, room_id: str | None = None) -> list[dict]:
        """Every message (oldest first), optionally of one room."""
        with self.state.lock:
            found = sorted(self.state.messages.values(), key=lambda m: m["_seq"])
        return [public(m) for m in found if room_id is None or m["roomId"] == room_id]

    def bot_messages(self, room_id: str | None = None) -> list[dict]:
        """Messages the bot posted (oldest first); fetch their files with file_bytes(url)."""
        bot_id = self.state.bot["id"]
        return [m for m in self.messages(room_id) if m["personId"] == bot_id]

    def file_bytes(self, url: str) -> bytes:
        return self._file(url).data

    def file_info(self, url: str) -> StoredFile:
        return self._file(url)

    def scan_pending(self, url: str, times: int = 1) -> None:
        """The next `times` GET or HEAD calls on this file answer 423 with Retry-After: 1."""
        with self.state.lock:
            self._file(url).scans_left = times

    def _file(self, url: str) -> StoredFile:
        return self.state.file_for_url(url)

    # cards and webhooks ---------------------------------------------------------------------
    def card_submit(self, person_email: str, room_id: str, message_id: str, inputs: dict) -> dict:
        """A user pressing Submit on the card of `message_id`."""
        person = self.state.ensure_person(person_email)
        action = self.state.add_action(person, self.state.room(room_id), message_id, inputs)
        return public(action)

    @property
    def webhooks(self) -> list[dict]:
        with self.state.lock:
            return [dict(h) for h in self.state.webhooks.values()]

    def disable_webhook(self, webhook_id: str) -> None:
        """What Webex does after repeated delivery failures."""
        with self.state.lock:
            self.state.webhooks[webhook_id]["status"] = "disabled"

    def deliver(
        self,
        event: dict | str | bytes,
        url: str | None = None,
        secret: str | None = None,
        signature: str | None = None,
    ) -> Any:
        """POST `event` (raw body kept byte-exact) signed with `secret` or a forged `signature`.

        `url` defaults to the envelope's targetUrl, `secret` to that of the registered
        webhook with the envelope's id; `secret=""` sends no signature header. Returns the
        requests.Response (or what `deliver_with` returns).
        """
        parsed = event if isinstance(event, dict) else None
        if url is None and parsed is not None:
            url = parsed.get("targetUrl")
        if url is None:
            raise ValueError("no url given and the event has no targetUrl")
        if secret is None and parsed is not None:
            with self.state.lock:
                secret = self.state.webhooks.get(parsed.get("id"), {}).get("secret")
        body = delivery.encode(event)
        headers = delivery.headers_for(body, secret, signature)
        response = delivery.post(url, body, headers, self.deliver_with)
        status = getattr(response, "status_code", 0)
        with self.state.lock:
            self.deliveries.append(delivery.Delivery(url, body, headers, status))
        return response

    def envelopes(self, resource: str, data: dict, actor_id: str) -> list[dict]:
        """Envelopes for every active registered webhook that matches this event."""
        bot_id = self.state.bot["id"]
        return [delivery.envelope(h, data, actor_id) for h in self.webhooks
                if delivery.matches(h, resource, data, bot_id)]

    def message_envelope(self, message: dict) -> dict:
        """The one envelope of a messages:created event (exactly one matching webhook expected)."""
        [envelope] = self.envelopes("messages", delivery.message_data(message), message["personId"])
        return envelope

    def deliver_message(self, message: dict) -> list[Any]:
        """messages:created to every matching webhook; returns the responses."""
        data = delivery.message_data(message)
        return [self.deliver(e) for e in self.envelopes("messages", data, message["personId"])]

    def deliver_action(self, action: dict) -> list[Any]:
        """attachmentActions:created to every matching webhook; returns the responses."""
        data = delivery.action_data(action)
        found = self.envelopes("attachmentActions", data, action["personId"])
        return [self.deliver(e) for e in found]

    # faults and recording -------------------------------------------------------------------
    def fail_next(self, method: str, path_regex: str, status: int | None, **options: Any) -> None:
        """See Faults.fail_next (options: times, headers, body, delay): e.g. fail_next("POST", "/v1/messages$", 429)."""
        self.faults.fail_next(method, path_regex, status, **options)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.faults.lock:
            return list(self.faults.requests)

    # organization tokens and consent --------------------------------------------------------
    @property
    def service_app(self) -> ServiceApp:
        """The Service App and token manager credentials the fake knows (defaults are fine)."""
        return self.orgauth.app

    def authorize(self, org: str) -> None:
        """The org's full admin authorizes the Service App in Control Hub."""
        self.orgauth.authorize(org)

    def deauthorize(self, org: str) -> None:
        """The admin withdraws the authorization; the org's tokens stop working at once."""
        self.orgauth.deauthorize(org)

    def service_app_envelope(self, event: str, org: str) -> dict:
        """The body of a `serviceApp` `authorized`/`deauthorized` delivery to our webhook for it."""
        [hook] = [h for h in self.webhooks if h["resource"] == "serviceApp" and h["event"] in (event, "all")]
        return delivery.service_app_envelope(hook, event, org, self.service_app.app_id)

    def deliver_service_app(self, event: str, org: str) -> Any:
        return self.deliver(self.service_app_envelope(event, org))

    # telephony ------------------------------------------------------------------------------
    def set_pstn(self, org: str, location: str, connection_type: str) -> None:
        """The location's PSTN connection type (LOCAL_GATEWAY unless set)."""
        self.telephony.set_pstn(org, location, connection_type)

    @property
    def activate_on_add(self) -> bool:
        return self.telephony.activate_on_add

    @activate_on_add.setter
    def activate_on_add(self, value: bool) -> None:
        self.telephony.activate_on_add = value

    @property
    def add_requests(self) -> list[AddRequest]:
        with self.state.lock:
            return list(self.telephony.add_requests)

    def add_location(self, org: str, location: str, name: str | None = None) -> None:
        self.telephony.add_location(org, location, name)

    def add_live_numbers(self, org: str, location: str, numbers: Iterable[str],
                         state: str = "ACTIVE") -> None:
        self.telephony.add_live_numbers(org, location, list(numbers), state)

    def numbers_of(self, org: str, location: str) -> dict[str, str]:
        return self.telephony.numbers_of(org, location)

    def refuse_numbers(self, refusals: dict[str, str]) -> None:
        self.telephony.refuse_numbers(refusals)

    def activate(self, org: str, location: str, numbers: Iterable[str] | None = None) -> None:
        self.telephony.activate(org, location, None if numbers is None else list(numbers))
