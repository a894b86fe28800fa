"""Operations (SPEC §9) on the real entry points: /metrics under gunicorn with two worker processes
and under `serve`, and `leadsbot worker` refusing to start without a bot token."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import requests
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from bot.cli_webex import register
from bot.envelopes import from_webhook
from bot.events import record
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store import heartbeats
from tests.support.live import OPERATOR, wait_until
from tests.support.processes import ROOT, SECRET, environment, free_port, gunicorn_command, start, stop


def scrape(port: int) -> dict[tuple[str, frozenset], float]:
    """Every sample of GET /metrics by (name, labels)."""
    response = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples, name: str, **labels) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    return sum(v for (n, got), v in samples.items() if n == name and set(labels.items()) <= set(got))


def register_at(fake, url: str) -> None:
    result = CliRunner().invoke(register, [url], env={"WEBEX_ACCESS_TOKEN": fake.bot_token,
                                                     "WEBEX_API_BASE_URL": fake.base_url,
                                                     "WEBEX_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0, result.output


def converse(fake, port: int) -> tuple[str, str]:
    """One message answered (its first reply refused once with a 429), delivered twice, plus a forged
    delivery; returns the room id and the operator's email, which must never become labels."""
    register_at(fake, f"http://127.0.0.1:{port}/webhooks/webex")
    room = fake.add_room("ops", "direct")
    fake.fail_next("POST", "/v1/messages$", 429, headers={"Retry-After": "0"})
    envelope = fake.message_envelope(fake.user_message(OPERATOR, room, "leads"))
    assert [fake.deliver(envelope).status_code for _ in range(2)] == [202, 202]
    forged = requests.post(f"http://127.0.0.1:{port}/webhooks/webex", data=b"{}",
                           headers={"X-Spark-Signature": "0" * 40}, timeout=5)
    assert forged.status_code == 401
    assert wait_until(lambda: len(fake.bot_messages(room)) >= 1)
    return room, OPERATOR


def assert_bounded_labels(samples, *secrets: str) -> None:
    for name, labels in samples:
        assert name.startswith(("leadsbot_", "process_", "python_")), name
        for _, label in labels:
            for unbounded in secrets:
                assert unbounded not in label, f"{name} has {unbounded!r} in a label"
            assert not re.search(r"\+\d|@", label), f"{name} has a number or an email as a label: {label}"


def test_metrics_under_gunicorn_sum_every_worker_process(db, fake_webex):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    port = free_port()
    process = start(gunicorn_command(port, workers=2), environment(db, fake_webex), port)
    try:
        before = scrape(port)
        assert value(before, "leadsbot_webhook_deliveries_total", outcome="accepted") == 0
        assert value(before, "leadsbot_database_up") == 1
        room, email = converse(fake_webex, port)
        assert wait_until(lambda: value(scrape(port), "leadsbot_events_processed_total", outcome="done") == 1)
        # Whichever process answers a scrape, it shows what every process counted.
        scrapes = [scrape(port) for _ in range(6)]
        for after in scrapes:
            assert value(after, "leadsbot_webhook_deliveries_total", outcome="accepted") == 1
            assert value(after, "leadsbot_webhook_deliveries_total", outcome="duplicate") == 1
            assert value(after, "leadsbot_webhook_deliveries_total", outcome="unauthorized") == 1
            assert value(after, "leadsbot_webhook_ack_seconds_count") == 3
            assert value(after, "leadsbot_events_processed_total", outcome="done") == 1
            assert value(after, "leadsbot_webex_api_calls_total", endpoint="messages", method="POST",
                         status="429") == 1
            assert value(after, "leadsbot_webex_api_calls_total", endpoint="messages", method="POST",
                         status="200") >= 1
            assert value(after, "leadsbot_webex_api_calls_total", endpoint="messages/{id}", method="GET",
                         status="200") >= 1
            assert value(after, "leadsbot_inbox_backlog") == 0
            assert value(after, "leadsbot_services", status="Pending Provisioning") >= 1
            assert total(after, "leadsbot_numbers") == 0
            assert_bounded_labels(after, room, email)
    finally:
        code, output = stop(process, signal.SIGINT)
    assert code == 0, output


def test_metrics_under_serve_and_the_database_gauges(db, fake_webex):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    port = free_port()
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    process = start(command, environment(db, fake_webex), port)
    try:
        room, email = converse(fake_webex, port)
        assert wait_until(lambda: value(scrape(port), "leadsbot_events_processed_total", outcome="done") == 1)
        assert wait_until(lambda: value(scrape(port), "leadsbot_scheduler_heartbeat_age_seconds") > 0)
        after = scrape(port)
        assert value(after, "leadsbot_webhook_deliveries_total", outcome="accepted") == 1
        assert value(after, "leadsbot_webhook_deliveries_total", outcome="unauthorized") == 1
        assert value(after, "leadsbot_inbox_oldest_pending_age_seconds") == 0
        # the processing side (serve's parent) counted the event and its Webex calls, the web child the delivery
        assert total(after, "leadsbot_webex_api_calls_total", endpoint="messages", method="POST") >= 1
        assert_bounded_labels(after, room, email)
        assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["reasons"] == []
    finally:
        code, output = stop(process)
    assert code == 0, output


def test_worker_without_a_bot_token_exits_at_once_with_one_line(db, fake_webex):
    env = environment(db, fake_webex)
    env["WEBEX_ACCESS_TOKEN"] = ""
    worker = subprocess.run([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    assert worker.returncode != 0
    assert worker.stdout == ""
    assert worker.stderr.strip().splitlines() == [
        ("Error: WEBEX_ACCESS_TOKEN is not set: without the bot's token the worker can neither answer nor sync. "
         "Set it and start the worker again.")]


def test_gunicorn_with_json_logs_writes_only_json_lines(db, fake_webex):
    port = free_port()
    env = {**environment(db, fake_webex), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    process = start(gunicorn_command(port, workers=2), env, port)
    requests.post(f"http://127.0.0.1:{port}/webhooks/webex", data=b"{}", headers={"X-Spark-Signature": "0" * 40},
                  timeout=5)
    code, output = stop(process, signal.SIGINT)
    assert code == 0, output
    records = [json.loads(line) for line in output.splitlines()]  # gunicorn's lines and the app's
    loggers = {record["logger"] for record in records}
    assert {"gunicorn.error", "bot.webhook"} <= loggers, loggers
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)


def test_the_worker_beats_and_serves_its_own_counters(db, fake_webex):
    """`leadsbot worker --metrics-port`: its scheduler's heartbeat reaches the database, and the events it
    processes are counted on its own /metrics (the web process never sees them)."""
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    register_at(fake_webex, "http://127.0.0.1:9/webhooks/webex")
    room = fake_webex.add_room("ops", "direct")
    message = fake_webex.user_message(OPERATOR, room, "leads")
    envelope = fake_webex.message_envelope(message)
    record(db, from_webhook(envelope))
    port = free_port()
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker", "--nice", "0", "--metrics-port", str(port)], cwd=ROOT,
                              env=environment(db, fake_webex), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: heartbeats.last_beat(db, heartbeats.SCHEDULER) is not None)
        assert wait_until(lambda: fake_webex.bot_messages(room))

        def counted() -> bool:
            try:
                return value(scrape(port), "leadsbot_events_processed_total", outcome="done") == 1
            except requests.RequestException:
                return False

        assert wait_until(counted)
        samples = scrape(port)
        assert value(samples, "leadsbot_webex_api_calls_total", endpoint="people/me", method="GET", status="200") == 1
        assert_bounded_labels(samples, room, OPERATOR)
    finally:
        stop(worker, signal.SIGINT)
