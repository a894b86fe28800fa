"""The bot as a Webex device (WDM): how `serve --websocket` gets the URL of its event websocket.

Webex's device service is found through the U2C catalog (`{WEBEX_U2C_URL}/catalog?format=hostmap`
→ `serviceLinks.wdm`); a device registered there (`POST {wdm}/devices`) carries the
`webSocketUrl` to connect to. An existing device of ours is reused, so restarts do not pile up
devices; after a 404 handshake (Webex forgot the device) a fresh one is registered.
"""
from __future__ import annotations

import logging

import requests

log = logging.getLogger(__name__)

DEVICE = {
    "deviceName": "leadsbot-websocket",
    "deviceType": "DESKTOP",
    "localizedModel": "python",
    "model": "python",
    "name": "leadsbot-websocket",
    "systemName": "leadsbot",
    "systemVersion": "1.0",
}


class DeviceError(RuntimeError):
    """Registration failed in a way worth one clear line (bad token, unusable answer)."""


class Devices:
    """Registers (or finds) the bot's device with WDM, using the bot token."""

    def __init__(self, u2c_url: str, token: str, *, timeout: float = 10, session: requests.Session | None = None):
        self.u2c_url = u2c_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}"})
        self.timeout = timeout
        self._wdm: str | None = None

    def _get_json(self, method: str, url: str, **options) -> dict:
        response = self.session.request(method, url, timeout=self.timeout, **options)
        if response.status_code in (401, 403):
            raise DeviceError(f"Webex refused the bot token ({response.status_code}) at {url}: "
                              "check WEBEX_ACCESS_TOKEN")
        response.raise_for_status()
        try:
            return response.json()
        except ValueError:
            raise DeviceError(f"{url} did not answer JSON") from None

    def wdm_url(self) -> str:
        """The device service's base URL, from the U2C catalog (asked once)."""
        if self._wdm is None:
            catalog = self._get_json("GET", f"{self.u2c_url}/catalog", params={"format": "hostmap"})
            wdm = (catalog.get("serviceLinks") or {}).get("wdm")
            if not wdm:
                raise DeviceError(f"the U2C catalog at {self.u2c_url} lists no wdm service")
            self._wdm = wdm.rstrip("/")
        return self._wdm

    def register(self, *, reuse: bool = True) -> dict:
        """Our device (with its `webSocketUrl`): the registered one when `reuse`, else a new one."""
        devices_url = f"{self.wdm_url()}/devices"
        if reuse:
            for device in self._get_json("GET", devices_url).get("devices") or []:
                if device.get("name") == DEVICE["name"] and device.get("webSocketUrl"):
                    log.info("reusing the registered Webex device")
                    return device
        device = self._get_json("POST", devices_url, json=DEVICE)
        if not device.get("webSocketUrl"):
            raise DeviceError("Webex registered the device but gave no webSocketUrl")
        log.info("registered a new Webex device")
        return device
