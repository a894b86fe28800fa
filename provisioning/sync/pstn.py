"""The PSTN guard (SPEC §5.2): numbers are pushed only to locations whose PSTN Webex lets us touch.

Webex's add and remove APIs "should never be used for locations with integrated PSTN
connection types like Cisco Calling Plans or Integrated CCP because backend data issues may
occur". So before pushing, the location's `pstnConnectionType` is read (and cached for an
hour); anything but a Local Gateway or a non-integrated Cloud Connected PSTN stops the push
with a reason that names the type. A lookup that fails raises the API's own error, so the
engine retries later and never pushes blind.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from provisioning.sync.port import NumbersApi, PermanentApiError

ALLOWED = ("LOCAL_GATEWAY", "NON_INTEGRATED_CCP")
CACHE_SECONDS = 3600.0
NAMES = {
    "LOCAL_GATEWAY": "Local Gateway",
    "NON_INTEGRATED_CCP": "non-integrated Cloud Connected PSTN",
    "INTEGRATED_CCP": "integrated Cloud Connected PSTN",
    "CISCO_PSTN": "Cisco PSTN (Cisco Calling Plans)",
}


class PstnNotSupported(PermanentApiError):
    """The location's PSTN connection does not allow adding numbers through the API."""

    def __init__(self, location_id: str, kind: str) -> None:
        name = NAMES.get(kind, kind)
        super().__init__(
            f"location {location_id} uses PSTN connection type {kind} ({name}); Webex allows adding numbers "
            f"through its API only for {' or '.join(ALLOWED)}, so nothing was pushed: add the numbers "
            "through the PSTN provider, or use a location with a Local Gateway or non-integrated CCP")
        self.kind = kind


class PstnGuard:
    """Remembers each location's PSTN connection type for an hour; shared by one engine's passes."""

    def __init__(self, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def connection_type(self, api: NumbersApi, org_id: str, location_id: str) -> str:
        key = (org_id, location_id)
        with self._lock:
            known = self._known.get(key)
        if known is not None and known[1] > self._clock():
            return known[0]
        kind = api.pstn_connection_type(org_id, location_id)
        with self._lock:
            self._known[key] = (kind, self._clock() + self.ttl)
        return kind

    def check(self, api: NumbersApi, org_id: str, location_id: str) -> None:
        """Raise PstnNotSupported unless numbers may be pushed to this location."""
        kind = self.connection_type(api, org_id, location_id)
        if kind not in ALLOWED:
            raise PstnNotSupported(location_id, kind)
