"""`leadsbot doctor` against the fake Webex and each database: every check passes on a good set-up,
and each ✗ is provoked by the misconfiguration it is there to catch."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import main
from bot.envelopes import InboxEnvelope
from bot.events import record
from bot.webex_client import WebexClient
from bot.webhooks_admin import register_webhooks
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store import heartbeats
from store.db import head_revision
from store.models import WebhookEvent, utcnow
from tests.support.processes import SECRET, free_port

URL = "https://leadsbot.example.com/webhooks/webex"
CHECKS = ("database:", "database schema:", "bot token:", "webhook secret:", "webhook messages:created:",
          "webhook attachmentActions:created:", "organizations:", "PSTN:", "scheduler heartbeat:", "inbox:")


def environment(db, fake, **changes) -> dict[str, str]:
    env = {"DATABASE_URL": db.engine.url.render_as_string(hide_password=False), "WEBEX_ACCESS_TOKEN": fake.bot_token,
           "WEBEX_API_BASE_URL": fake.base_url, "WEBEX_WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "WARNING"}
    env.update(changes)
    return env


def doctor(env: dict[str, str], url: str | None = URL) -> tuple[int, dict[str, str]]:
    """Exit code and each printed line by what it checks ("bot token:" → "✓ bot token: …")."""
    result = CliRunner().invoke(main, ["doctor", *(["--url", url] if url else [])], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = result.output.splitlines()
    assert all(line[:2] in ("✓ ", "✗ ") for line in lines), result.output
    by_check = {}
    for line in lines:
        name = next((c for c in sorted((*CHECKS, "webhooks:"), key=len, reverse=True) if line[2:].startswith(c)),
                    line[2:])
        by_check[name] = line
    return result.exit_code, by_check


@pytest.fixture
def healthy(db, fake_webex):
    """A set-up where everything is right: webhooks at URL, a fresh heartbeat, nothing waiting."""
    register_webhooks(WebexClient(fake_webex.bot_token, fake_webex.base_url), URL, SECRET)
    heartbeats.beat(db, heartbeats.SCHEDULER, "test-scheduler")
    return environment(db, fake_webex)


def test_every_check_passes_on_a_good_set_up(healthy):
    code, lines = doctor(healthy)
    assert code == 0, lines
    assert set(lines) == set(CHECKS)
    assert all(line.startswith("✓") for line in lines.values()), lines
    assert f"at {head_revision()}" in lines["database schema:"]
    assert "leadsbot@webex.bot" in lines["bot token:"]
    assert URL in lines["webhook messages:created:"]
    assert "no events waiting" in lines["inbox:"]


def test_an_unreachable_database_fails_and_the_checks_needing_it_say_why(healthy):
    env = {**healthy, "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"}
    code, lines = doctor(env)
    assert code == 1
    assert lines["database:"].startswith("✗") and "Check DATABASE_URL" in lines["database:"]
    for name in ("database schema:", "scheduler heartbeat:", "inbox:"):
        assert lines[name].startswith("✗") and "not checked" in lines[name]
    assert lines["bot token:"].startswith("✓")


def test_a_database_without_the_schema_says_to_upgrade(healthy, tmp_path):
    code, lines = doctor({**healthy, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"})
    assert code == 1
    assert lines["database:"].startswith("✓")
    assert lines["database schema:"] == "✗ database schema: the database has no schema: run `leadsbot db upgrade`"


def test_a_schema_behind_the_release_says_to_upgrade(db, healthy):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
    try:
        code, lines = doctor(healthy)
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()})
    assert code == 1
    assert lines["database schema:"].startswith("✗ database schema: the database schema is at 0005")
    assert "leadsbot db upgrade" in lines["database schema:"]


def test_no_bot_token(healthy):
    code, lines = doctor({**healthy, "WEBEX_ACCESS_TOKEN": ""})
    assert code == 1
    assert lines["bot token:"].startswith("✗ bot token: WEBEX_ACCESS_TOKEN is not set")
    assert lines["webhooks:"] == "✗ webhooks: not checked, there is no bot token"


def test_a_token_webex_refuses(healthy):
    code, lines = doctor({**healthy, "WEBEX_ACCESS_TOKEN": "expired-or-wrong"})
    assert code == 1
    assert lines["bot token:"].startswith("✗ bot token: Webex refused it (")
    assert "401" in lines["bot token:"]


def test_a_person_token_is_not_a_bot(healthy, fake_webex):
    with fake_webex.state.lock:
        fake_webex.state.bot["type"] = "person"  # the token of a user, as Webex answers people/me for it
    code, lines = doctor(healthy)
    assert code == 1
    assert "not a bot" in lines["bot token:"] and lines["bot token:"].startswith("✗")


def test_webex_unreachable(healthy):
    code, lines = doctor({**healthy, "WEBEX_API_BASE_URL": f"http://127.0.0.1:{free_port()}/v1/"})
    assert code == 1
    assert lines["bot token:"].startswith("✗ bot token: Webex is unreachable")


def test_no_webhook_secret(healthy):
    code, lines = doctor({**healthy, "WEBEX_WEBHOOK_SECRET": ""})
    assert code == 1
    assert lines["webhook secret:"].startswith("✗ webhook secret: WEBEX_WEBHOOK_SECRET is not set")


def test_no_webhooks_registered(db, fake_webex):
    heartbeats.beat(db, heartbeats.SCHEDULER, "test-scheduler")
    code, lines = doctor(environment(db, fake_webex))
    assert code == 1
    assert lines["webhook messages:created:"] == (
        f"✗ webhook messages:created: none pointing at {URL}. To create it, run `leadsbot webhooks register {URL}`.")
    assert lines["webhook attachmentActions:created:"].startswith("✗")


def test_webhooks_pointing_elsewhere_than_url(healthy):
    other = "https://new-host.example.com/webhooks/webex"
    code, lines = doctor(healthy, url=other)
    assert code == 1
    assert f"none pointing at {other} (found at {URL})" in lines["webhook messages:created:"]
    code, lines = doctor(healthy, url=None)  # without --url, where they point is not checked
    assert code == 0, lines


def test_a_disabled_webhook(healthy, fake_webex):
    with fake_webex.state.lock:
        hook = next(h for h in fake_webex.state.webhooks.values() if h["resource"] == "attachmentActions")
        hook["status"] = "disabled"  # as Webex does after failed deliveries
    code, lines = doctor(healthy)
    assert code == 1
    assert lines["webhook attachmentActions:created:"].startswith("✗ webhook attachmentActions:created: disabled")
    assert "To repair it, run `leadsbot webhooks register" in lines["webhook attachmentActions:created:"]
    assert lines["webhook messages:created:"].startswith("✓")


def test_a_scheduler_that_never_ran(db, fake_webex):
    register_webhooks(WebexClient(fake_webex.bot_token, fake_webex.base_url), URL, SECRET)
    code, lines = doctor(environment(db, fake_webex))
    assert code == 1
    assert "never run" in lines["scheduler heartbeat:"] and lines["scheduler heartbeat:"].startswith("✗")


def test_a_stale_scheduler_heartbeat(db, healthy):
    heartbeats.beat(db, heartbeats.SCHEDULER, "old-worker", at=utcnow() - timedelta(hours=1))
    code, lines = doctor(healthy)
    assert code == 1
    assert lines["scheduler heartbeat:"].startswith("✗ scheduler heartbeat: the scheduler's last heartbeat is 36")
    assert "is `leadsbot worker` running?" in lines["scheduler heartbeat:"]


def test_an_inbox_backlog_nobody_processes(db, healthy):
    record(db, InboxEnvelope("EVENT-1", "messages", "created", None, None, {}))
    code, lines = doctor(healthy)
    assert code == 0 and lines["inbox:"].startswith("✓ inbox: 1 events waiting")
    with db.engine.begin() as conn:
        conn.execute(WebhookEvent.__table__.update().values(received_at=utcnow() - timedelta(minutes=20)))
    code, lines = doctor(healthy)
    assert code == 1
    assert lines["inbox:"].startswith("✗ inbox: 1 events waiting, the oldest for 12")
    assert "leadsbot worker" in lines["inbox:"]


def test_a_filtered_webhook_misses_events(healthy, fake_webex):
    with fake_webex.state.lock:
        hook = next(h for h in fake_webex.state.webhooks.values() if h["resource"] == "messages")
        hook["filter"] = "roomType=group"  # only group spaces: direct messages would never arrive
    code, lines = doctor(healthy)
    assert code == 1
    assert lines["webhook messages:created:"].startswith("✗ webhook messages:created: filtered, so the bot misses")


def lines_starting(lines: dict[str, str], prefix: str) -> dict[str, str]:
    return {name: line for name, line in lines.items() if name.startswith(prefix)}


def test_services_without_organization_credentials(db, healthy):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    code, lines = doctor(healthy)
    assert code == 1
    [credentials] = lines_starting(lines, "organization credentials:").values()
    assert credentials.startswith("✗") and "WEBEX_PARTNER_ACCESS_TOKEN" in credentials
    assert lines["PSTN:"] == "✗ PSTN: not checked, there are no organization credentials"


def test_consent_per_organization_with_a_service_app(db, fake_webex, healthy):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    app = fake_webex.service_app
    fake_webex.authorize("ORG-ROMA")
    env = {**healthy, "WEBEX_SERVICE_APP_CLIENT_ID": app.client_id,
           "WEBEX_SERVICE_APP_CLIENT_SECRET": app.client_secret,
           "WEBEX_TOKEN_MANAGER_CLIENT_ID": app.manager_client_id,
           "WEBEX_TOKEN_MANAGER_CLIENT_SECRET": app.manager_client_secret,
           "WEBEX_TOKEN_MANAGER_REFRESH_TOKEN": app.manager_refresh_token}
    code, lines = doctor(env)
    orgs = lines_starting(lines, "organization ORG-")
    assert code == 1
    assert orgs["organization ORG-ROMA (roma-cc, roma-cx): consent given"].startswith("✓")
    refused = [line for name, line in orgs.items() if "ORG-BAGELS" in name]
    assert len(refused) == 1 and refused[0].startswith("✗") and "authorize the Service App in Control Hub" in refused[0]
    pstn = lines_starting(lines, "PSTN location")
    assert pstn["PSTN location LOC-MILAN of ORG-ROMA (roma-cc): LOCAL_GATEWAY, numbers can be added through the API"]
    assert any(line.startswith("✗") and "LOC-NEWYORK" in line for line in pstn.values())  # no consent, no read

    fake_webex.authorize("ORG-BAGELS")
    fake_webex.authorize("ORG-FROMAGERIE")
    fake_webex.authorize("ORG-THAMES")
    code, lines = doctor(env)
    assert code == 0, lines
    assert all(line.startswith("✓") for line in lines.values())


def test_a_location_whose_pstn_refuses_numbers_from_the_api(db, fake_webex, healthy):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    env = {**healthy, "WEBEX_PARTNER_ACCESS_TOKEN": fake_webex.partner_token}
    code, lines = doctor(env)
    assert code == 0, lines
    assert len(lines_starting(lines, "organization ORG-")) == 4
    fake_webex.set_pstn("ORG-BAGELS", "LOC-NEWYORK", "INTEGRATED_CCP")
    code, lines = doctor(env)
    assert code == 1
    [line] = lines_starting(lines, "PSTN location LOC-NEWYORK").values()
    assert line.startswith("✗ PSTN location LOC-NEWYORK of ORG-BAGELS (bagels-cc): INTEGRATED_CCP")
    assert "LOCAL_GATEWAY or NON_INTEGRATED_CCP" in line
    assert all(line.startswith("✓") for name, line in lines.items() if "LOC-NEWYORK" not in name)
