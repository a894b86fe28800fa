"""What the domain's operations need, wired once by `bot.bootstrap` (or by a test)."""
from __future__ import annotations

from dataclasses import dataclass

from provisioning.settings import Settings
from provisioning.uploads.webex_check import NumberCheck
from store.db import Database


@dataclass
class Services:
    """The database and the settings every handler passes on to the domain, and Webex's number
    check for previews when organization credentials are configured."""

    db: Database
    settings: Settings
    number_check: NumberCheck | None = None
