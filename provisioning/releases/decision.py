"""Which released numbers need Webex, and whether the bot may talk to Webex about them now.

The one place the remove decision is made, so that credentials and guards (organization
tokens, consent, the PSTN guard of SPEC §5.2) are added here and apply to every release.
"""
from __future__ import annotations

from dataclasses import dataclass

from store.models import Service

SEND = "send"  # ask Webex to remove them (integrated service)
WAIT = "wait"  # the customer removes them in Control Hub (non-integrated service); the poll sees it
HOLD = "hold"  # nothing may be sent or polled now: the release is queued until `reason` is resolved


@dataclass(frozen=True)
class Decision:
    action: str
    reason: str | None = None


def removal_decision(service: Service, awaiting_consent: bool = False) -> Decision:
    """What the removal pass does for this service now.

    `awaiting_consent`: Webex gives no org token for the service's org now (live consent, SPEC §5.1).
    The PSTN guard needs Webex's answer, so the pass applies it before the first DELETE."""
    if service.consented_on is None or awaiting_consent:
        return Decision(HOLD, "the service is Pending Consent: the numbers are removed once the customer consents")
    if service.mode == "integrated":
        return Decision(SEND)
    return Decision(WAIT)


def leaves_at_once(service: Service, sync_state: str, push_in_flight: bool) -> bool:
    """Whether a number can leave the store without Webex: it was never pushed (pending with no
    worker pushing its upload right now, or refused by Webex), or, for a non-integrated service,
    the customer never made it live."""
    if service.mode == "integrated":
        return sync_state == "failed" or (sync_state == "pending" and not push_in_flight)
    return sync_state != "live"
