"""Prometheus metrics (SPEC §9): counters kept by each process, gauges read from the database.

Counters and the acknowledgement histogram live in the process that counts them. Under
gunicorn several processes count, so `bot.gunicorn_conf` sets `PROMETHEUS_MULTIPROC_DIR`
before this module is first imported and `prometheus_client` keeps the values in files there,
summed by `MultiProcessCollector` at scrape time. What the database knows (inbox backlog,
numbers by sync state, services by status, the scheduler's heartbeat) is read from it at
scrape time by `DatabaseCollector`, so every process answers the same, whichever counted.

Labels are bounded: endpoints are path templates (IDs become `{id}`), statuses are HTTP codes,
outcomes a fixed set. Room ids, emails and numbers never become labels.
"""
from __future__ import annotations

import logging
import os
import re
import time
from collections import Counter as Tally
from urllib.parse import urlparse

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from bot.metrics_folder import MULTIPROC_ENV
from provisioning.leads.status import STATUS_ORDER, derive_status
from store import heartbeats
from store.db import Database
from store.models import SYNC_STATES, Number, Service, WebhookEvent, utcnow

log = logging.getLogger(__name__)

WEBHOOK_ENDPOINT = "webex_webhook.receive"  # the Flask endpoint of POST /webhooks/webex
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

WEBHOOK_DELIVERIES = Counter("leadsbot_webhook_deliveries", "Webhook deliveries by outcome.", ["outcome"])
ACK_SECONDS = Histogram("leadsbot_webhook_ack_seconds", "Time to acknowledge a webhook delivery.",
                        buckets=ACK_BUCKETS)
EVENTS_PROCESSED = Counter("leadsbot_events_processed", "Inbox events processed, by outcome.", ["outcome"])
WEBEX_API_CALLS = Counter("leadsbot_webex_api_calls", "Webex API calls by endpoint and HTTP status.",
                          ["endpoint", "method", "status"])

# What an answer to POST /webhooks/webex means, by its status code (202 is split by `duplicate`).
DELIVERY_OUTCOMES = {200: "ignored", 400: "bad_request", 401: "unauthorized", 413: "too_large",
                     503: "unavailable"}
EVENT_OUTCOMES = {"done": "done", "failed": "failed", "pending": "retry"}
WORD = re.compile(r"[a-z][a-z_]{0,39}")
VERSION = re.compile(r"v\d+")
MAX_SEGMENTS = 6


# counting ---------------------------------------------------------------------------------
def event_finished(state: str) -> None:
    """An inbox event left a worker's hands as `state` (done, failed, pending again)."""
    EVENTS_PROCESSED.labels(outcome=EVENT_OUTCOMES.get(state, "other")).inc()


def endpoint_of(url: str) -> str:
    """A Webex URL as a bounded template: `/v1/telephony/config/locations/Y2lz…/numbers` is
    `telephony/config/locations/{id}/numbers`; Webex IDs (base64) are never lower-case words."""
    segments = [s for s in urlparse(url).path.split("/") if s]
    if segments and VERSION.fullmatch(segments[0]):
        segments = segments[1:]
    shown = [s if WORD.fullmatch(s) else "{id}" for s in segments[:MAX_SEGMENTS]]
    return "/".join(shown) or "/"


def record_webex_response(response, *_args, **_kwargs) -> None:
    """A `requests` response hook: count the call by endpoint template, method and status."""
    try:
        WEBEX_API_CALLS.labels(endpoint=endpoint_of(response.request.url), method=response.request.method,
                               status=str(response.status_code)).inc()
    except Exception:  # counting must never break a call
        log.debug("could not count a Webex call", exc_info=True)


def instrument_session(session) -> None:
    """Count every call made through this `requests.Session` (the SDK's and our own)."""
    hooks = session.hooks.setdefault("response", [])
    if record_webex_response not in hooks:
        hooks.append(record_webex_response)


def _delivery_started() -> None:
    if request.endpoint == WEBHOOK_ENDPOINT:
        g.leadsbot_webhook_started = time.perf_counter()


def _delivery_answered(response: Response) -> Response:
    started = g.pop("leadsbot_webhook_started", None)
    if started is None:
        return response
    ACK_SECONDS.observe(time.perf_counter() - started)
    if response.status_code == 202:
        body = response.get_json(silent=True) or {}
        outcome = "duplicate" if body.get("duplicate") else "accepted"
    else:
        outcome = DELIVERY_OUTCOMES.get(response.status_code, "error")
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    return response


# the database's view ----------------------------------------------------------------------
class DatabaseCollector:
    """Gauges computed from the database at scrape time, so they are right across processes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self):
        up = GaugeMetricFamily("leadsbot_database_up", "1 when the database answered this scrape.")
        try:
            families = list(self._families())
        except Exception as exc:
            log.warning("metrics: database unavailable (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self):
        now = utcnow()
        with self.db.sessions() as session:
            backlog, oldest = session.execute(
                select(func.count(), func.min(WebhookEvent.received_at)).where(WebhookEvent.state == "pending")
            ).one()
            counts: dict[int, Tally] = {}
            for service_id, state, count in session.execute(
                    select(Number.service_id, Number.sync_state, func.count())
                    .group_by(Number.service_id, Number.sync_state)):
                counts.setdefault(service_id, Tally())[state] = count
            services = session.scalars(select(Service)).all()
        yield _gauge("leadsbot_inbox_backlog", "Webhook events recorded and not processed yet.", backlog)
        yield _gauge("leadsbot_inbox_oldest_pending_age_seconds", "Age of the oldest unprocessed event (0: none).",
                     (now - oldest).total_seconds() if oldest else 0)
        by_state = Tally()
        for tally in counts.values():
            by_state.update(tally)
        numbers = GaugeMetricFamily("leadsbot_numbers", "Numbers by sync state.", labels=["sync_state"])
        for state in SYNC_STATES:
            numbers.add_metric([state], by_state.get(state, 0))
        yield numbers
        by_status = Tally(derive_status(s, counts.get(s.id, Tally())).label for s in services)
        family = GaugeMetricFamily("leadsbot_services", "Services (leads) by status.", labels=["status"])
        for status in STATUS_ORDER:
            family.add_metric([status], by_status.get(status, 0))
        yield family
        age = heartbeats.age_seconds(self.db, heartbeats.SCHEDULER)
        if age is not None:
            yield _gauge("leadsbot_scheduler_heartbeat_age_seconds", "Seconds since the scheduler last beat.", age)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


# exposition -------------------------------------------------------------------------------
def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def registry(db: Database | None) -> CollectorRegistry:
    """What one scrape shows: this process's (or, under gunicorn, every process's) counters, plus
    the database's gauges when `db` is given."""
    scraped = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        MultiProcessCollector(scraped)
    else:
        scraped.register(_Default())
    if db is not None:
        scraped.register(DatabaseCollector(db))
    return scraped


class _Default:
    """The process-wide default registry (this process's counters, process and platform facts)."""

    def collect(self):
        return REGISTRY.collect()


def instrument_app(app: Flask, db: Database) -> None:
    """Count webhook deliveries and their acknowledgement time, and serve GET /metrics."""
    scraped = registry(db)
    app.before_request(_delivery_started)
    app.after_request(_delivery_answered)

    def metrics_view() -> Response:
        return Response(generate_latest(scraped), content_type=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics_view)


def serve_in_background(port: int, db: Database | None = None) -> None:
    """`leadsbot worker`'s own /metrics (its events processed and Webex calls) on METRICS_PORT."""
    from prometheus_client import start_http_server

    start_http_server(port, registry=registry(db))
