"""Tunable limits and intervals, read from the environment once at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Mapping

DEFAULT_WEBEX_API_BASE_URL = "https://webexapis.com/v1/"
DEFAULT_WEBEX_U2C_URL = "https://u2c.wbx2.com/u2c/api/v1"


class SettingsError(ValueError):
    """A setting's value is unusable; the message names the variable and what it must be."""


SECRETS = ("webex_access_token", "webex_webhook_secret", "webex_service_app_client_secret",
           "webex_token_manager_client_secret", "webex_token_manager_refresh_token", "webex_partner_access_token")


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    webex_access_token: str = ""
    webex_api_base_url: str = DEFAULT_WEBEX_API_BASE_URL
    webex_webhook_secret: str = ""
    webex_u2c_url: str = DEFAULT_WEBEX_U2C_URL  # where `serve --websocket` finds Webex's device service
    max_range: int = 100_000
    max_file_bytes: int = 20 * 1024 * 1024
    max_rows: int = 1_000_000
    max_upload_numbers: int = 1_000_000  # per upload or release, every range expanded (SPEC §3)
    preview_ttl_hours: int = 24  # previews neither submitted nor cancelled expire after this
    sync_batch_size: int = 500
    sync_poll_seconds: int = 60
    sync_max_attempts: int = 8
    inbox_threads: int = 4  # threads processing events; one space and one person use one at a time
    progress_after_seconds: int = 3  # long commands show progress once they have run this long (SPEC §4)
    progress_every: int = 5  # seconds between progress updates (a Webex message takes at most 10 edits)
    log_level: str = "INFO"
    # Organization tokens (SPEC §5.1): a Service App and its token manager integration, or a partner token.
    webex_service_app_client_id: str = ""
    webex_service_app_client_secret: str = ""
    webex_service_app_id: str = ""
    webex_token_manager_client_id: str = ""
    webex_token_manager_client_secret: str = ""
    webex_token_manager_refresh_token: str = ""
    webex_partner_access_token: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Each field from its upper-case variable (e.g. MAX_RANGE), then explicit overrides."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _whole_number(f.name.upper(), raw) if f.type in ("int", int) else raw
        values.update(overrides)
        return cls(**values)

    @property
    def sync_configured(self) -> bool:
        """Whether there are organization credentials to sync with (a Service App or a partner token)."""
        return self.service_app_configured or bool(self.webex_partner_access_token)

    @property
    def service_app_configured(self) -> bool:
        """Consent is live (checked with Webex) only when a Service App is configured."""
        return bool(self.webex_service_app_client_id and self.webex_service_app_client_secret
                    and self.webex_token_manager_refresh_token)

    def __repr__(self) -> str:
        """Never print secrets (SPEC §7)."""
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        for secret in SECRETS:
            shown[secret] = "***" if shown[secret] else ""
        shown["database_url"] = _hide_password(shown["database_url"])
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def _whole_number(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw[:40]!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative (it is {value})")
    return value


def _hide_password(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url
