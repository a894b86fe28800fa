"""`serviceApp` webhook events (SPEC §5.1): a customer's admin authorized or withdrew the Service App.

These envelopes carry no message or room: the org is `data.authorizerOrgId` (or `data.orgId`),
and a delivery is keyed by a hash of its exact body, so a redelivery is recorded once.
`authorized` checks that org's consent at once; `deauthorized` pauses its sync right away.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from bot.telephony import WebexNumbersApi
from bot.tokens import TokenSource
from handlers.base import Services
from provisioning import consent
from store.models import utcnow

log = logging.getLogger(__name__)

RESOURCE = "serviceApp"
EVENTS = ((RESOURCE, "authorized"), (RESOURCE, "deauthorized"))


def event_key(body: bytes) -> str:
    """The inbox id of a serviceApp delivery: the same body twice is the same event."""
    return f"{RESOURCE}:{hashlib.sha256(body).hexdigest()}"


def authorizer_org(envelope: dict) -> str | None:
    data = envelope.get("data") or {}
    for key in ("authorizerOrgId", "orgId"):
        if isinstance(data.get(key), str) and data[key]:
            return data[key]
    return None


def consent_probe(tokens: TokenSource, base_url: str) -> Callable[[str], None]:
    """How consent is checked: a fresh org token, accepted by the org's telephony API."""
    return WebexNumbersApi(base_url, tokens, timeout=10).check_access


def handle(services: Services, tokens: TokenSource | None, envelope: dict) -> None:
    """Record what the event says about the org's consent (ignored without a Service App)."""
    org_id, event = authorizer_org(envelope), envelope.get("event")
    if org_id is None:
        log.warning("serviceApp %s event without an organization: ignored", event)
        return
    if tokens is None or not getattr(tokens, "checks_consent", False):
        log.info("serviceApp %s event for %s ignored: no Service App is configured", event, org_id)
        return
    db, now = services.db, utcnow()
    poll = services.settings.sync_poll_seconds
    if event == "deauthorized":
        tokens.forget(org_id)
        with db.sessions.begin() as session:
            consent.missing(session, org_id, consent.DEAUTHORIZED, now, poll)
        return
    with db.sessions.begin() as session:
        consent.track(session, org_id, now)
    probe = consent_probe(tokens, services.settings.webex_api_base_url)
    consent.check_org(db, org_id, probe, now, consent.consent_backoff(poll))
