"""`POST /webhooks/webex`: verify, record, acknowledge; never process here.

Order matters: the signature is checked before anything touches the database, the event is
committed (with the deliveries arriving meanwhile: bot/group_commit.py) before the 2xx, so an
acknowledged event cannot be lost, and bad input is a 4xx or an ignored 2xx, never a 5xx
(Webex disables webhooks that keep failing).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from bot import service_app
from bot.envelopes import Unstorable, from_webhook

log = logging.getLogger(__name__)

bp = Blueprint("webex_webhook", __name__)

MAX_BODY_BYTES = 1024 * 1024  # Webex envelopes are a few KB; anything near this is abuse
RECORD_TIMEOUT_SECONDS = 15  # a database slower than this gets the delivery retried by Webex, not held
HANDLED = {("messages", "created"), ("attachmentActions", "created"), *service_app.EVENTS}


def signature_ok(body: bytes, signature: str, secret: str) -> bool:
    """X-Spark-Signature is the hex HMAC-SHA1 of the raw body; compared in constant time."""
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest().encode("ascii")
    return hmac.compare_digest(expected, signature.strip().lower().encode("utf-8", "replace"))


def _answer(status: int, **body):
    return jsonify(body), status


def _read_body() -> bytes | None:
    """The raw body, or None when it is over the cap (checked before and while reading)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return None
    body = request.stream.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


@bp.post("/webhooks/webex")
def receive():
    """Record a signed Webex webhook delivery and acknowledge it (202)."""
    runtime = current_app.extensions["leadsbot"]
    secret = runtime.services.settings.webex_webhook_secret
    signature = request.headers.get("X-Spark-Signature", "")
    if not secret:
        log.error("WEBEX_WEBHOOK_SECRET is not set: refusing webhook deliveries")
        return _answer(401, error="webhook secret not configured")
    if not signature:
        return _answer(401, error="missing signature")
    body = _read_body()
    if body is None:
        return _answer(413, error="body too large")
    if not signature_ok(body, signature, secret):
        log.warning("webhook delivery with a bad signature rejected")
        return _answer(401, error="bad signature")
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError):
        return _answer(400, error="body is not JSON")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), dict):
        return _answer(400, error="not a Webex webhook envelope")
    kind = (str(envelope.get("resource")), str(envelope.get("event")))
    if kind not in HANDLED:
        return _answer(200, ignored=f"{kind[0]}:{kind[1]}")
    event_id = service_app.event_key(body) if kind[0] == service_app.RESOURCE else None
    try:
        inbox_envelope = from_webhook(envelope, event_id)
    except Unstorable as exc:
        return _answer(400, error=str(exc))
    try:
        new = runtime.recorder.submit(inbox_envelope, timeout=RECORD_TIMEOUT_SECONDS)
    except (SQLAlchemyError, TimeoutError) as exc:
        # Not bad input: without the database the event cannot be kept, so let Webex retry.
        log.error("webhook event not recorded, database unavailable: %s", type(exc).__name__)
        return _answer(503, error="temporarily unavailable")
    if new:
        runtime.wake()
    return _answer(202, accepted=True, duplicate=not new)
