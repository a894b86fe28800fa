"""What stops a process from doing its job, as reasons a person can act on.

`/healthz` answers 503 with these reasons (200 when there are none); `leadsbot doctor` runs the
same database and heartbeat checks. The scheduler's heartbeat only makes a process unhealthy
when that process is meant to run the scheduler (`leadsbot serve` without `--no-scheduler`):
the Procfile's web process keeps acknowledging webhooks while `leadsbot worker` is down, so its
answer shows the heartbeat's age without failing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from provisioning.settings import Settings
from store import heartbeats
from store.db import Database, current_revision, head_revision

HEARTBEAT_SECONDS = 15  # how often the scheduler beats
STALE_AFTER_SECONDS = 300  # a heartbeat older than this means no scheduler is running


@lru_cache(maxsize=1)
def release_head() -> str:
    """The migration this release's code needs (read once: the files do not change while running)."""
    return head_revision()


def schema_reason(db: Database) -> str | None:
    """None when the schema is at this release's head; else what is wrong and what to run."""
    current, head = current_revision(db.engine), release_head()
    if current == head:
        return None
    if current is None:
        return "the database has no schema: run `leadsbot db upgrade`"
    return f"the database schema is at {current}, this release needs {head}: run `leadsbot db upgrade`"


def heartbeat_reason(age: float | None) -> str | None:
    if age is None:
        return "the scheduler has never run against this database: start `leadsbot worker`"
    if age > STALE_AFTER_SECONDS:
        return f"the scheduler's last heartbeat is {age:.0f} s old: is `leadsbot worker` running?"
    return None


@dataclass
class Health:
    reasons: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reasons


def check(settings: Settings, db: Database, *, webhook_mode: bool = True, expect_scheduler: bool = False) -> Health:
    """The reasons this process cannot work, and what it found (database, schema, heartbeat age)."""
    health = Health()
    if not settings.webex_access_token:
        health.reasons.append("WEBEX_ACCESS_TOKEN is not set: the bot cannot read messages or reply")
    if webhook_mode and not settings.webex_webhook_secret:
        health.reasons.append("WEBEX_WEBHOOK_SECRET is not set: every webhook delivery is refused")
    if not db.ping():
        health.reasons.append("the database is unreachable: check DATABASE_URL")
        health.details["database"] = "unreachable"
        return health
    health.details["database"] = "ok"
    try:
        schema = schema_reason(db)
        age = heartbeats.age_seconds(db, heartbeats.SCHEDULER) if schema is None else None
    except Exception as exc:  # it answered the ping but not this: say so rather than fail the check
        health.reasons.append(f"the database failed a health query ({type(exc).__name__})")
        return health
    if schema:
        health.reasons.append(schema)
        return health
    health.details["scheduler_heartbeat_age_seconds"] = None if age is None else round(age, 1)
    stale = heartbeat_reason(age)
    if stale and expect_scheduler and age is not None:
        health.reasons.append(stale)
    return health
