"""The one place that wires settings, the database and the outside APIs together.

Every entry point (`leadsbot serve`, `worker`, `shell`, the gunicorn app) builds its `Wiring`
here, once per process, and hands the pieces to whoever needs them.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.telephony import WebexNumbersApi
from bot.tokens import TokenSource, token_source
from bot.webex_client import WebexClient
from provisioning.services import Services
from provisioning.settings import Settings
from store.db import connect


@dataclass
class Wiring:
    """What one process talks to: the domain's services, Webex messaging, customers' numbers."""

    services: Services
    webex: WebexClient | None         # the bot's messaging; None without WEBEX_ACCESS_TOKEN
    numbers_api: WebexNumbersApi | None  # customers' Webex Calling numbers; None when not configured
    tokens: TokenSource | None = None    # organization tokens (Service App or partner); never the bot token

    @property
    def settings(self) -> Settings:
        return self.services.settings


def build_services(settings: Settings | None = None, *, auto_upgrade: bool | None = None,
                   require_schema: bool = True) -> Services:
    """Services for the CLI, the web app and the worker; SQLite is created and migrated on first use,
    a PostgreSQL schema that is missing or behind is a DatabaseConfigError (`leadsbot db upgrade`)."""
    settings = settings or Settings.from_env()
    db = connect(settings.database_url or None, auto_upgrade=auto_upgrade, require_schema=require_schema)
    return Services(db=db, settings=settings)


def build_webex(settings: Settings) -> WebexClient | None:
    """The bot's Webex client, or None when no bot token is configured."""
    if not settings.webex_access_token:
        return None
    return WebexClient(settings.webex_access_token, settings.webex_api_base_url)


def build_numbers_api(settings: Settings, tokens: TokenSource | None = None) -> WebexNumbersApi | None:
    """The adapter to customers' Webex Calling numbers, or None without organization credentials
    (SPEC §5.1: the bot token is for messaging only and never reaches a telephony endpoint)."""
    tokens = tokens if tokens is not None else token_source(settings)
    if tokens is None:
        return None
    return WebexNumbersApi(settings.webex_api_base_url, tokens)


def build_wiring(settings: Settings | None = None, *, services: Services | None = None,
                 auto_upgrade: bool | None = None) -> Wiring:
    """Everything a process needs, built from `settings` (the environment when None)."""
    if services is None:
        services = build_services(settings, auto_upgrade=auto_upgrade)
    settings = services.settings
    tokens = token_source(settings)
    numbers_api = build_numbers_api(settings, tokens)
    services.number_check = numbers_api  # Webex's own check in previews (SPEC §5.2)
    return Wiring(services, build_webex(settings), numbers_api, tokens)


def configure_logging(level: str) -> None:
    """Logging is configured by entrypoints only, never at import (text, or LOG_FORMAT=json)."""
    from bot import logs

    logs.configure(level)
