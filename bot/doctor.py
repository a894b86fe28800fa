"""`leadsbot doctor`: check the whole set-up, one line per check with ✓/✗ and what to do.

Each check is a small function of a `Setup` returning one or more `Finding`s; `CHECKS` runs
them in order. A check that needs something an earlier one found missing (the database, the
bot's token) says so in its own line instead of failing with a traceback.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import func, select, text
from webexpythonsdk.exceptions import ApiError

from bot import health
from bot.bootstrap import build_services, build_webex
from bot.retry import describe
from bot.webex_client import WebexClient
from bot.webhooks_admin import WEBHOOKS, webhook_name
from provisioning.services import Services
from provisioning.settings import Settings
from store import heartbeats
from store.models import WebhookEvent, utcnow

OK, FAILED = "✓", "✗"
BACKLOG_AGE_LIMIT_SECONDS = 300  # an event waiting longer than this means nobody is processing


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str  # what was found, and on a ✗ what to do about it

    def line(self) -> str:
        return f"{OK if self.ok else FAILED} {self.text}"


def good(text: str) -> Finding:
    return Finding(True, text)


def bad(text: str) -> Finding:
    return Finding(False, text)


@dataclass
class Setup:
    """What the checks look at: the settings, the public URL given with --url, and (built on first
    use) the database and the bot's Webex client."""

    settings: Settings
    url: str | None = None
    problems: dict[str, str] = field(default_factory=dict)

    @cached_property
    def services(self) -> Services | None:
        try:
            services = build_services(self.settings, auto_upgrade=False, require_schema=False)  # checked below
            with services.db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            self.problems["database"] = _first_line(exc)
            return None
        return services

    @cached_property
    def webex(self) -> WebexClient | None:
        return build_webex(self.settings)

    def close(self) -> None:
        if self.__dict__.get("services") is not None:
            self.services.db.dispose()

    @cached_property
    def migrated(self) -> bool:
        return self.services is not None and health.schema_reason(self.services.db) is None


Check = Callable[[Setup], Iterable[Finding]]


def database(setup: Setup) -> Iterable[Finding]:
    if setup.services is None:
        yield bad(f"database: cannot connect ({setup.problems['database']}). Check DATABASE_URL.")
        return
    yield good(f"database: reachable ({setup.services.db.engine.dialect.name})")


def migrations(setup: Setup) -> Iterable[Finding]:
    if setup.services is None:
        yield bad("database schema: not checked, the database is unreachable")
        return
    reason = health.schema_reason(setup.services.db)
    if reason:
        yield bad(f"database schema: {reason}")
    else:
        yield good(f"database schema: at {health.release_head()} (this release's head)")


def bot_token(setup: Setup) -> Iterable[Finding]:
    if setup.webex is None:
        yield bad("bot token: WEBEX_ACCESS_TOKEN is not set. Create a bot at developer.webex.com and set its token.")
        return
    try:
        me = setup.webex.sdk.people.me().to_dict()
    except ApiError as exc:
        yield bad(f"bot token: Webex refused it ({describe(exc)}). Set WEBEX_ACCESS_TOKEN to the bot's current token.")
        return
    except Exception as exc:
        yield bad(f"bot token: Webex is unreachable ({describe(exc)}). Check WEBEX_API_BASE_URL and the network.")
        return
    who = (me.get("emails") or ["?"])[0]
    if me.get("type") != "bot":
        yield bad(f"bot token: it belongs to {who}, a {me.get('type', 'person')}, not a bot. "
                  "Use the token of a bot (developer.webex.com → My Webex Apps).")
        return
    yield good(f"bot token: valid, the bot is {who}")


def webhook_secret(setup: Setup) -> Iterable[Finding]:
    if not setup.settings.webex_webhook_secret:
        yield bad("webhook secret: WEBEX_WEBHOOK_SECRET is not set, so every delivery is refused. "
                  "Set it to a long random string, then run `leadsbot webhooks register URL`.")
        return
    yield good("webhook secret: set")


def webhooks(setup: Setup) -> Iterable[Finding]:
    if setup.webex is None:
        yield bad("webhooks: not checked, there is no bot token")
        return
    try:
        hooks = [hook.to_dict() for hook in setup.webex.sdk.webhooks.list()]
    except Exception as exc:
        yield bad(f"webhooks: could not list them ({describe(exc)})")
        return
    repair = f"run `leadsbot webhooks register {setup.url or 'URL'}`"
    for resource, event in WEBHOOKS:
        kind = f"{resource}:{event}"
        found = [h for h in hooks if h.get("resource") == resource and h.get("event") == event]
        if setup.url:
            found = [h for h in found if h.get("targetUrl") == setup.url]
        if not found:
            where = f" pointing at {setup.url}" if setup.url else ""
            others = sorted({h.get("targetUrl", "?") for h in hooks
                             if h.get("resource") == resource and h.get("event") == event})
            seen = f" (found at {', '.join(others)})" if others else ""
            yield bad(f"webhook {kind}: none{where}{seen}. To create it, {repair}.")
            continue
        active = [h for h in found if h.get("status") == "active" and not h.get("filter")]
        if not active:
            hook = found[0]
            state = "filtered, so the bot misses events" if hook.get("filter") else hook.get("status", "not active")
            yield bad(f"webhook {kind}: {state} at {hook.get('targetUrl')}. To repair it, {repair}.")
            continue
        named = webhook_name(resource, event)
        yield good(f"webhook {kind}: active at {active[0].get('targetUrl')}"
                   + ("" if active[0].get("name") == named else f" (named {active[0].get('name')!r})"))


def scheduler_heartbeat(setup: Setup) -> Iterable[Finding]:
    if not setup.migrated:
        yield bad("scheduler heartbeat: not checked, the database is unreachable or not migrated")
        return
    age = heartbeats.age_seconds(setup.services.db, heartbeats.SCHEDULER)
    reason = health.heartbeat_reason(age)
    if reason:
        yield bad(f"scheduler heartbeat: {reason}")
    else:
        yield good(f"scheduler heartbeat: {age:.0f} s ago")


def inbox_backlog(setup: Setup) -> Iterable[Finding]:
    if not setup.migrated:
        yield bad("inbox: not checked, the database is unreachable or not migrated")
        return
    with setup.services.db.sessions() as session:
        waiting, oldest = session.execute(
            select(func.count(), func.min(WebhookEvent.received_at)).where(WebhookEvent.state == "pending")).one()
    if not waiting:
        yield good("inbox: no events waiting")
        return
    age = (utcnow() - oldest).total_seconds()
    if age > BACKLOG_AGE_LIMIT_SECONDS:
        yield bad(f"inbox: {waiting} events waiting, the oldest for {age:.0f} s. "
                  "Start `leadsbot worker` (with WEBEX_ACCESS_TOKEN) or look at its log.")
        return
    yield good(f"inbox: {waiting} events waiting, the oldest for {age:.0f} s")


# The order lines are printed in. Checks of customers' organizations go after `webhooks`:
# organization credentials and consent per service, and the PSTN type per integrated location,
# each a function of a Setup like those above.
CHECKS: list[Check] = [
    database,
    migrations,
    bot_token,
    webhook_secret,
    webhooks,
    scheduler_heartbeat,
    inbox_backlog,
]


def run(setup: Setup, checks: Iterable[Check] = CHECKS) -> list[Finding]:
    """Every check's findings, in order; a check that crashes is a ✗ line, never a traceback."""
    findings: list[Finding] = []
    for check in checks:
        try:
            findings.extend(check(setup))
        except Exception as exc:
            findings.append(bad(f"{check.__name__.replace('_', ' ')}: the check failed ({_first_line(exc)})"))
    return findings


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
