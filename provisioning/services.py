"""What the domain's operations need, wired once by `bot.bootstrap` (or by a test)."""
from __future__ import annotations

from dataclasses import dataclass

from provisioning.settings import Settings
from store.db import Database


@dataclass
class Services:
    """The database and the settings every handler passes on to the domain."""

    db: Database
    settings: Settings
