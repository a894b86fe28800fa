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
from bot.bootstrap import build_numbers_api, build_services, build_webex
from bot.retry import describe
from bot.telephony import WebexNumbersApi
from bot.webex_client import WebexClient
from bot.webhooks_admin import WEBHOOKS, webhook_name
from provisioning.services import Services
from provisioning.settings import Settings
from provisioning.sync.port import ConsentMissing
from provisioning.sync.pstn import ALLOWED as PSTN_ALLOWED
from store import heartbeats
from store.models import Service, WebhookEvent, utcnow

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

    @cached_property
    def numbers_api(self) -> WebexNumbersApi | None:
        """Customers' numbers through organization tokens; None without organization credentials."""
        return build_numbers_api(self.settings)

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


def organizations(setup: Setup) -> Iterable[Finding]:
    """Organization credentials, then consent per customer organization (SPEC §5.1)."""
    if not setup.migrated:
        yield bad("organizations: not checked, the database is unreachable or not migrated")
        return
    orgs = _organizations(setup)
    if not orgs:
        yield good("organizations: no services loaded yet")
        return
    if setup.numbers_api is None:
        yield bad("organization credentials: none, so no service can sync. Configure a Service App "
                  "(WEBEX_SERVICE_APP_CLIENT_ID, ..._SECRET and the token manager's WEBEX_TOKEN_MANAGER_*) "
                  "or WEBEX_PARTNER_ACCESS_TOKEN: see docs/webex.md §6.")
        return
    for org_id, names in orgs.items():
        try:
            setup.numbers_api.check_access(org_id)
        except ConsentMissing as exc:
            yield bad(f"organization {org_id} ({names}): no consent ({_first_line(exc)}). The customer's full "
                      "admin must authorize the Service App in Control Hub (docs/webex.md §6).")
        except Exception as exc:
            yield bad(f"organization {org_id} ({names}): could not be checked ({_first_line(exc)}). "
                      "Check WEBEX_API_BASE_URL and the network.")
        else:
            yield good(f"organization {org_id} ({names}): consent given")


def pstn_types(setup: Setup) -> Iterable[Finding]:
    """Integrated services push only to locations whose PSTN connection allows it (SPEC §5.2)."""
    if not setup.migrated:
        yield bad("PSTN: not checked, the database is unreachable or not migrated")
        return
    locations = _integrated_locations(setup)
    if not locations:
        yield good("PSTN: no integrated service")
        return
    if setup.numbers_api is None:
        yield bad("PSTN: not checked, there are no organization credentials")
        return
    for (org_id, location_id), names in locations.items():
        where = f"location {location_id} of {org_id} ({names})"
        try:
            kind = setup.numbers_api.pstn_connection_type(org_id, location_id)
        except Exception as exc:
            yield bad(f"PSTN {where}: could not be read ({_first_line(exc)})")
            continue
        if kind in PSTN_ALLOWED:
            yield good(f"PSTN {where}: {kind}, numbers can be added through the API")
        else:
            yield bad(f"PSTN {where}: {kind}, Webex allows adding numbers through its API only for "
                      f"{' or '.join(PSTN_ALLOWED)}. Add them through the PSTN provider, or make the "
                      "service non-integrated in the inventory.")


def _organizations(setup: Setup) -> dict[str, str]:
    """Each customer organization with the names of its services, for the lines above."""
    with setup.services.db.sessions() as session:
        rows = session.execute(select(Service.org_id, Service.name).order_by(Service.org_id, Service.name)).all()
    found: dict[str, list[str]] = {}
    for org_id, name in rows:
        found.setdefault(org_id, []).append(name)
    return {org_id: ", ".join(names) for org_id, names in found.items()}


def _integrated_locations(setup: Setup) -> dict[tuple[str, str], str]:
    with setup.services.db.sessions() as session:
        rows = session.execute(select(Service.org_id, Service.location_id, Service.name)
                               .where(Service.mode == "integrated")
                               .order_by(Service.org_id, Service.location_id, Service.name)).all()
    found: dict[tuple[str, str], list[str]] = {}
    for org_id, location_id, name in rows:
        found.setdefault((org_id, location_id), []).append(name)
    return {key: ", ".join(names) for key, names in found.items()}


# The order lines are printed in.
CHECKS: list[Check] = [
    database,
    migrations,
    bot_token,
    webhook_secret,
    webhooks,
    organizations,
    pstn_types,
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
