"""The one place that wires settings, the database and outside APIs together."""
from __future__ import annotations

import logging

from handlers.base import Services
from provisioning.settings import Settings
from store.db import connect


def build_services(settings: Settings | None = None, *, auto_upgrade: bool | None = None) -> Services:
    """Services for the CLI, the web app and the worker; SQLite is created and migrated on first use."""
    settings = settings or Settings.from_env()
    return Services(db=connect(settings.database_url or None, auto_upgrade=auto_upgrade), settings=settings)


def configure_logging(level: str) -> None:
    """Logging is configured by entrypoints only, never at import."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if logging.getLogger().level < logging.WARNING:
        logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job run at INFO
