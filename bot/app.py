"""The Flask app factory: webhook endpoint, health check and the inbox workers.

`create_app()` with no arguments reads the environment (gunicorn calls it once per worker
process, after forking). In the Procfile, `web` only acknowledges and `worker` processes;
`leadsbot serve` does the same split in one command (bot/serve.py: a gunicorn child built
with `start_workers=False`, processing in the parent). Tests pass a `wiring` (and may
stand in a `dispatch`) and may keep the workers stopped.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, jsonify

from bot import events, health, metrics, webhook
from bot.bootstrap import Wiring, build_wiring
from bot.envelopes import InboxEnvelope
from bot.events import Inbox
from bot.group_commit import GroupCommit
from bot.incoming import Conversation, Dispatch
from provisioning.services import Services
from provisioning.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """What the views and workers of one app share (kept in `app.extensions["leadsbot"]`)."""

    wiring: Wiring
    inbox: Inbox | None
    webhook_mode: bool = True  # events arrive as webhooks, so the webhook secret is needed
    expect_scheduler: bool = False  # this process runs the scheduler, so its heartbeat must be fresh
    notify: Callable[[], None] | None = None  # wakes processing in another process (`leadsbot serve`)
    recorder: GroupCommit[InboxEnvelope, bool] | None = None  # the webhook's writes, committed together

    def __post_init__(self) -> None:
        db = self.wiring.services.db
        self.recorder = GroupCommit(lambda batch: events.record_many(db, batch), name="inbox-recorder")

    @property
    def services(self) -> Services:
        return self.wiring.services

    def wake(self) -> None:
        """An event was recorded: let a worker look now rather than at its next poll."""
        if self.inbox is not None:
            self.inbox.wake()
        if self.notify is not None:
            self.notify()

    def stop(self) -> None:
        """Stop the inbox threads (tests, orderly shutdown)."""
        if self.inbox is not None:
            self.inbox.stop()


def _default_dispatch() -> Dispatch:
    from handlers import dispatch

    return dispatch


def build_inbox(wiring: Wiring, dispatch: Dispatch | None = None, *, threads: int | None = None,
                **options) -> Inbox | None:
    """The workers that process recorded webhook events: in the web process, or in `leadsbot worker`."""
    if wiring.webex is None:
        log.error("WEBEX_ACCESS_TOKEN is not set: webhook events are recorded but not processed")
        return None
    conversation = Conversation(wiring.services, wiring.webex, dispatch or _default_dispatch(), wiring.tokens)
    threads = threads or wiring.settings.inbox_threads
    return Inbox(wiring.services.db, conversation.handle_event, threads=threads, **options)


def create_app(
    settings: Settings | None = None,
    *,
    wiring: Wiring | None = None,
    start_workers: bool = True,
    dispatch: Dispatch | None = None,
    inbox_threads: int | None = None,
    inbox_options: dict | None = None,
) -> Flask:
    """Build the app; with `start_workers`, recorded events are processed in this process too.

    The Procfile's `web` passes `start_workers=False`: the web process only records and
    acknowledges (fast, SPEC §8), and `leadsbot worker` processes.
    """
    if wiring is None:
        wiring = build_wiring(settings)
    inbox = build_inbox(wiring, dispatch, threads=inbox_threads, **(inbox_options or {}))

    app = Flask("leadsbot")
    app.extensions["leadsbot"] = Runtime(wiring, inbox)
    app.register_blueprint(webhook.bp)
    metrics.instrument_app(app, wiring.services.db)
    app.add_url_rule("/healthz", "healthz", healthz)
    if start_workers and inbox is not None:
        inbox.start()
    return app


def healthz():
    """200 when this process can do its job; 503 with the reasons (SPEC §9) otherwise."""
    runtime: Runtime = current_app.extensions["leadsbot"]
    found = health.check(runtime.services.settings, runtime.services.db, webhook_mode=runtime.webhook_mode,
                         expect_scheduler=runtime.expect_scheduler)
    body = {
        "status": "ok" if found.ok else "unavailable",
        "reasons": found.reasons,
        **found.details,
        "inbox_workers": runtime.inbox.alive if runtime.inbox is not None else 0,
    }
    return jsonify(body), 200 if found.ok else 503


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["leadsbot"]
