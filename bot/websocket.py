"""`leadsbot serve --websocket`: events from Webex's websocket instead of webhooks (no public URL).

The listener registers the bot's device (bot/devices.py), connects to its `webSocketUrl`, sends
the authorization message and turns every message or card-action activity into the same inbox
event a webhook delivery would be (bot/activities.py): recorded durably, deduplicated by its
id, ordered by its space, processed by the same inbox. Only then is the frame acknowledged.
Pings are the websocket protocol's own (the `websockets` library answers and sends them); a
dropped connection is reopened with backoff, and a 404 handshake means Webex forgot the device,
so a new one is registered.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from bot import events
from bot.activities import to_webhook
from bot.devices import DeviceError, Devices
from bot.envelopes import Unstorable, from_webhook
from provisioning.backoff import Backoff
from store.db import Database

log = logging.getLogger(__name__)

PING_SECONDS = 20


class Listener:
    """One websocket connection at a time, reopened until `stop()`; events go to `record`."""

    def __init__(self, devices: Devices, token: str, record: Callable[[dict], bool], *,
                 backoff: Backoff | None = None, ping_seconds: float = PING_SECONDS,
                 device: dict | None = None) -> None:
        self.devices = devices
        self.device = device  # registered already (by `serve`, to fail fast), else at the first connect
        self.token = token
        self.record = record
        self.backoff = backoff or Backoff(base=1.0, cap=60)
        self.ping_seconds = ping_seconds
        self.connected = threading.Event()
        self.connections = 0  # opened so far (tests and logs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> Listener:
        self._thread = threading.Thread(target=self._run_loop, name="webex-websocket", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    def _run_loop(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._task = self._loop.create_task(self.listen())
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    # the connection -------------------------------------------------------------------------
    async def listen(self) -> None:
        """Register, connect, read frames; on any failure wait (backoff) and do it again."""
        device = self.device
        fresh = False  # register a new device instead of reusing ours
        failures = 0
        while True:
            try:
                if device is None:
                    device = await asyncio.to_thread(self.devices.register, reuse=not fresh)
                    fresh = False
                await self._session(device["webSocketUrl"])
                failures = 0
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status == 404:
                    log.warning("Webex no longer knows the device (404 on connect): registering a new one")
                    device, fresh = None, True
                else:
                    log.warning("the Webex websocket refused the connection (HTTP %s)", status)
            except DeviceError as exc:
                log.error("Webex device registration failed: %s", exc)
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                log.warning("Webex websocket connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected.clear()
            failures += 1
            await asyncio.sleep(self.backoff.delay(failures))

    async def _session(self, url: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with connect(url, additional_headers=headers, ping_interval=self.ping_seconds,
                           ping_timeout=self.ping_seconds, open_timeout=15, max_size=2**20) as websocket:
            await websocket.send(json.dumps({"id": str(uuid.uuid4()), "type": "authorization",
                                             "data": {"token": f"Bearer {self.token}"}}))
            self.connections += 1
            self.connected.set()
            log.info("connected to the Webex websocket")
            async for raw in websocket:
                frame_id = await asyncio.to_thread(self._handle, raw)
                if frame_id is not None:
                    await websocket.send(json.dumps({"type": "ack", "messageId": frame_id}))
        raise ConnectionClosed(None, None)  # closed by Webex: reconnect like after a drop

    def _handle(self, raw: str | bytes) -> str | None:
        """Record the event a frame carries; the frame's id to acknowledge once it is durable."""
        try:
            frame = json.loads(raw)
        except ValueError:
            log.warning("ignored a websocket frame that is not JSON")
            return None
        body = to_webhook(frame)
        if body is None:
            return frame.get("id") if isinstance(frame, dict) else None
        try:
            self.record(body)
        except Unstorable as exc:
            log.warning("ignored a websocket event the inbox cannot hold: %s", exc)
        except SQLAlchemyError as exc:  # not acknowledged: Webex may send it again
            log.error("websocket event not recorded, database unavailable: %s", type(exc).__name__)
            return None
        return frame.get("id")


def recorder(db: Database, wake: Callable[[], None]) -> Callable[[dict], bool]:
    """Record a webhook-shaped body in the inbox (a duplicate is a no-op) and wake a worker."""

    def record(body: dict) -> bool:
        new = events.record(db, from_webhook(body))
        if new:
            wake()
        return new

    return record


def register(settings) -> tuple[Devices, dict]:
    """The device service and our device, before anything starts: a bad token or an unreachable
    Webex is then one clear error (DeviceError, or requests' RequestException) at start-up."""
    if not settings.webex_access_token:
        raise DeviceError("WEBEX_ACCESS_TOKEN is not set: the websocket needs the bot's token")
    devices = Devices(settings.webex_u2c_url, settings.webex_access_token)
    return devices, devices.register()


def start_listener(wiring, inbox, devices: Devices, device: dict) -> Listener:
    """The listener of `leadsbot serve --websocket`, recording into `wiring`'s database."""
    wake = inbox.wake if inbox is not None else (lambda: None)
    return Listener(devices, wiring.settings.webex_access_token, recorder(wiring.services.db, wake),
                    device=device).start()
