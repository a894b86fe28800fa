"""The real entry points as separate processes: gunicorn (Procfile `web`) and `serve`."""
from __future__ import annotations

import signal
import subprocess
import sys

import requests
from click.testing import CliRunner

from bot.cli_webex import register, resolve_port
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store.models import OutboxMessage
from tests.support.live import OPERATOR, wait_until
from tests.support.processes import (
    ROOT,
    SECRET,
    environment,
    free_port,
    gunicorn_command,
    start,
    stop,
)


def converse(fake, url: str) -> None:
    """Register, then one message delivered twice: exactly one reply, in the right room."""
    result = CliRunner().invoke(register, [url], env={"WEBEX_ACCESS_TOKEN": fake.bot_token,
                                                     "WEBEX_API_BASE_URL": fake.base_url,
                                                     "WEBEX_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0, result.output
    room = fake.add_room("ops", "direct")
    message = fake.user_message(OPERATOR, room, "leads")
    envelope = fake.message_envelope(message)
    assert [fake.deliver(envelope).status_code for _ in range(2)] == [202, 202]
    assert wait_until(lambda: len(fake.bot_messages(room)) >= 1)
    [reply] = fake.bot_messages(room)
    assert "roma-cc" in reply["markdown"]


def test_under_gunicorn_with_two_workers(db, fake_webex):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    port = free_port()
    process = start(gunicorn_command(port, workers=2), environment(db, fake_webex), port)
    try:
        converse(fake_webex, f"http://127.0.0.1:{port}/webhooks/webex")
        forged = requests.post(f"http://127.0.0.1:{port}/webhooks/webex", data=b"{}",
                               headers={"X-Spark-Signature": "0" * 40}, timeout=5)
        assert forged.status_code == 401
    finally:
        code, output = stop(process, signal.SIGINT)  # gunicorn's quick shutdown; its SIGTERM is slower
    assert code == 0, output
    assert fake_webex.bot_token not in output and SECRET not in output


def test_procfile_web_only_acknowledges_and_the_worker_processes(db, fake_webex):
    """The Procfile shape: gunicorn records and acknowledges; `leadsbot worker` answers, once."""
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert "create_app(start_workers=False)" in procfile["web"] and procfile["worker"] == "leadsbot worker"
    port = free_port()
    env = environment(db, fake_webex)
    web = start(gunicorn_command(port, "bot.app:create_app(start_workers=False)"), env, port)
    room = fake_webex.add_room("ops", "direct")
    worker = None
    try:
        url = f"http://127.0.0.1:{port}/webhooks/webex"
        result = CliRunner().invoke(register, [url], env={"WEBEX_ACCESS_TOKEN": fake_webex.bot_token,
                                                          "WEBEX_API_BASE_URL": fake_webex.base_url,
                                                          "WEBEX_WEBHOOK_SECRET": SECRET})
        assert result.exit_code == 0, result.output
        message = fake_webex.user_message(OPERATOR, room, "leads")
        envelope = fake_webex.message_envelope(message)
        assert [fake_webex.deliver(envelope).status_code for _ in range(2)] == [202, 202]
        assert not wait_until(lambda: fake_webex.bot_messages(room), timeout=1.5)  # nobody processes in web
        worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert wait_until(lambda: fake_webex.bot_messages(room))
        assert not wait_until(lambda: len(fake_webex.bot_messages(room)) > 1, timeout=1.5)
        assert "roma-cc" in fake_webex.bot_messages(room)[0]["markdown"]
    finally:
        if worker is not None:
            stop(worker, signal.SIGINT)
        stop(web, signal.SIGINT)


def test_leadsbot_serve_with_its_scheduler_answers_and_stops_on_sigterm(db, fake_webex):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    notices = fake_webex.add_room("notices", "group")
    with db.sessions.begin() as session:  # owed by the sync engine; the in-process scheduler sends it
        session.add(OutboxMessage(room_id=notices, markdown="✅ roma-cc is Ready: 1 numbers live in Webex",
                                  dedupe_key="ready:serve"))
    port = free_port()
    command = [sys.executable, "-c", "from bot.cli_webex import serve; serve()", "--port", str(port)]
    process = start(command, environment(db, fake_webex), port)
    try:
        converse(fake_webex, f"http://127.0.0.1:{port}/webhooks/webex")
        assert wait_until(lambda: len(fake_webex.bot_messages(notices)) == 1)
    finally:
        code, output = stop(process)
    assert code == 0, output
    assert f"listening on http://127.0.0.1:{port}" in output


def test_port_comes_from_the_option_then_the_environment_then_8080(monkeypatch):
    monkeypatch.setenv("PORT", "5123")
    assert resolve_port(9000) == 9000
    assert resolve_port(None) == 5123
    monkeypatch.delenv("PORT")
    assert resolve_port(None) == 8080


def test_register_needs_the_token_and_the_secret():
    runner = CliRunner()
    missing_secret = runner.invoke(register, ["https://bot.example/webhooks/webex"],
                                   env={"WEBEX_ACCESS_TOKEN": "t", "WEBEX_WEBHOOK_SECRET": ""})
    assert missing_secret.exit_code != 0 and "WEBEX_WEBHOOK_SECRET" in missing_secret.output
    missing_token = runner.invoke(register, ["https://bot.example/webhooks/webex"],
                                  env={"WEBEX_ACCESS_TOKEN": "", "WEBEX_WEBHOOK_SECRET": "s"})
    assert missing_token.exit_code != 0 and "WEBEX_ACCESS_TOKEN" in missing_token.output


def test_register_with_webex_unreachable_is_one_line():
    port = free_port()  # nothing listens there
    result = CliRunner().invoke(register, ["https://bot.example/webhooks/webex"],
                                env={"WEBEX_ACCESS_TOKEN": "t", "WEBEX_WEBHOOK_SECRET": "s",
                                     "WEBEX_API_BASE_URL": f"http://127.0.0.1:{port}/v1/"})
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: can't reach Webex at http://127.0.0.1:{port}/v1/")
    assert result.output.count("\n") == 1


def test_serve_answers_through_gunicorn_not_the_development_server(db, fake_webex):
    port = free_port()
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port), "--no-scheduler"]
    process = start(command, environment(db, fake_webex), port)
    try:
        server = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).headers.get("Server", "")
    finally:
        code, output = stop(process)
    assert server.startswith("gunicorn") and code == 0, output
