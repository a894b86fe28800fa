"""Webex's event websocket, faked on 127.0.0.1: the U2C catalog, the device service (WDM) and Mercury.

HTTP (U2C and WDM) and the websocket run on two ports; both want the bot token. A device
registered with `POST /wdm/api/v1/devices` gets a `webSocketUrl`; a connection to the URL of a
device Webex no longer knows is refused with 404, as Webex does. A connection must send the
authorization message first. Tests push activities as Webex would, drop connections, retire
devices, and read what the client acknowledged.
"""
from __future__ import annotations

import asyncio
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request

from tests.support.fakewebex.server import FakeWebex
from tests.support.waiting import wait_until

AUTH_TIMEOUT = 5


def uuid_of(rest_id: str) -> str:
    import base64

    return base64.urlsafe_b64decode(rest_id + "=" * (-len(rest_id) % 4)).decode().rsplit("/", 1)[-1]


class FakeWebexEvents:
    """The websocket side of the fake Webex (`with FakeWebexEvents(fake) as events:`)."""

    def __init__(self, fake: FakeWebex) -> None:
        self.fake = fake
        self.token = fake.bot_token
        self.devices: dict[str, dict] = {}  # device id -> device, while Webex knows it
        self.registrations = 0
        self.authorized: list[ServerConnection] = []
        self.acks: list[str] = []
        self.lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-mercury", daemon=True)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._http_handler())
        self._http_thread = threading.Thread(target=self._http.serve_forever, name="fake-u2c", daemon=True)
        self.ws_port = 0

    # lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> FakeWebexEvents:
        self._thread.start()
        self._ready.wait(10)
        self._http_thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    @property
    def u2c_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_port}/u2c/api/v1"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._connection, "127.0.0.1", 0, process_request=self._handshake,
                         ping_interval=None) as server:
            self.ws_port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await self._stop.wait()

    # HTTP: U2C catalog and device service -----------------------------------------------------
    def _http_handler(self):
        events = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {events.token}":
                    return True
                self._answer(401, {"message": "The request requires a valid access token."})
                return False

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if not self._authorized():
                    return
                parts = urlsplit(self.path)
                if parts.path == "/u2c/api/v1/catalog" and "format=hostmap" in parts.query:
                    wdm = f"http://127.0.0.1:{events._http.server_port}/wdm/api/v1"
                    self._answer(200, {"serviceLinks": {"wdm": wdm}, "format": "hostmap"})
                elif parts.path == "/wdm/api/v1/devices":
                    with events.lock:
                        self._answer(200, {"devices": list(events.devices.values())})
                else:
                    self._answer(404, {"message": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                if not self._authorized():
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                if urlsplit(self.path).path != "/wdm/api/v1/devices" or not body.get("name"):
                    self._answer(400, {"message": "bad device request"})
                    return
                self._answer(200, events.register(body))

        return Handler

    def register(self, body: dict) -> dict:
        device_id = str(uuid.uuid4())
        device = {**body, "url": f"http://127.0.0.1:{self._http.server_port}/wdm/api/v1/devices/{device_id}",
                  "webSocketUrl": f"ws://127.0.0.1:{self.ws_port}/mercury/{device_id}"}
        with self.lock:
            self.devices[device_id] = device
            self.registrations += 1
        return device

    # the websocket --------------------------------------------------------------------------
    def _handshake(self, connection: ServerConnection, request: Request):
        device_id = request.path.rsplit("/", 1)[-1]
        with self.lock:
            known = device_id in self.devices
        if not request.path.startswith("/mercury/") or not known:
            return connection.respond(404, "device not found\n")
        return None

    async def _connection(self, connection: ServerConnection) -> None:
        try:
            first = json.loads(await asyncio.wait_for(connection.recv(), AUTH_TIMEOUT))
        except (TimeoutError, ValueError):
            await connection.close(4401, "authorization expected")
            return
        if first.get("type") != "authorization" or first.get("data", {}).get("token") != f"Bearer {self.token}":
            await connection.close(4401, "bad authorization")
            return
        with self.lock:
            self.authorized.append(connection)
        try:
            async for raw in connection:
                message = json.loads(raw)
                if message.get("type") == "ack":
                    with self.lock:
                        self.acks.append(message["messageId"])
        except Exception:  # a dropped connection ends here; the client reconnects
            pass
        finally:
            with self.lock:
                if connection in self.authorized:
                    self.authorized.remove(connection)

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def wait_connected(self, count: int = 1) -> bool:
        return wait_until(lambda: len(self.authorized) >= count)

    def push(self, frame: dict) -> str:
        """Send a frame to every authorized connection; returns its id."""
        async def send() -> None:
            for connection in list(self.authorized):
                await connection.send(json.dumps(frame))

        self._call(send())
        return frame["id"]

    def drop(self) -> None:
        """Cut every connection without a closing handshake (a network failure)."""
        async def cut() -> None:
            for connection in list(self.authorized):
                connection.transport.abort()

        self._call(cut())

    def forget_devices(self) -> None:
        """Webex forgets every device: connecting to their URLs is a 404 from now on."""
        with self.lock:
            self.devices.clear()
        self.drop()

    def ping(self) -> float:
        """Ping every connection; the latency of the slowest pong (the client must answer)."""
        async def ping_all() -> float:
            latencies = [await (await connection.ping()) for connection in list(self.authorized)]
            return max(latencies)

        return self._call(ping_all())

    # activities as Webex sends them -----------------------------------------------------------
    def activity(self, verb: str, object_id: str, room_id: str, person: dict) -> dict:
        """A `conversation.activity` frame (ids as UUIDs, as on the websocket)."""
        return {
            "id": str(uuid.uuid4()),
            "data": {
                "eventType": "conversation.activity",
                "activity": {
                    "id": uuid_of(object_id), "objectType": "activity", "verb": verb,
                    "actor": {"entryUUID": uuid_of(person["id"]), "emailAddress": (person.get("emails") or [""])[0],
                              "objectType": "person"},
                    "target": {"id": uuid_of(room_id), "objectType": "conversation",
                               "url": f"https://conv.example/conversation/api/v1/conversations/{uuid_of(room_id)}"},
                },
            },
            "filterMessage": False,
            "sequenceNumber": 1,
        }

    def message_activity(self, message: dict) -> dict:
        return self.activity("post", message["id"], message["roomId"], self.fake.person(message["personEmail"]))

    def action_activity(self, action: dict, email: str) -> dict:
        return self.activity("cardAction", action["id"], action["roomId"], self.fake.person(email))
