"""Secrets never appear in logs or output (SPEC §7), even at DEBUG level.

The bot token, the webhook secret and the database password are unique marker strings; every
log record of the in-process paths and everything the CLI processes print is searched for them.
The PostgreSQL server of the test machine trusts local connections, so a URL with any password
connects and the password travels through every code path that handles the URL.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.bootstrap import build_services
from bot.shell import Shell
from handlers import Attachment, Request, dispatch
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from tests.reliability.conftest import APOLOGY, DATABASE_DOWN, ROMA
from tests.support.chat import ADMIN, OPERATOR
from tests.support.fakewebex.server import FakeWebex
from tests.support.live import wait_until
from tests.support.processes import free_port, healthy

MARK = uuid.uuid4().hex[:12]
TOKEN = f"tokenmarker{MARK}"
SECRET = f"secretmarker{MARK}"
PASSWORD = f"passwordmarker{MARK}"
MARKERS = (TOKEN, SECRET, PASSWORD)
SCRIPT = ["help", "tenant Acme SP", "leads", f"upload {ROMA} +390212345600-609, 390212345699", "submit", "numbers +3902",
          "status roma-cc", "frobnicate", 'upload roma-cc info="x', "template", "digest daily 08:00"]


def assert_no_secret(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, f"a secret ({marker[:12]}…) is in the output"


def with_password(url: str) -> str:
    return make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)


def environment(database_url: str, base_url: str = "http://127.0.0.1:9/v1/", token: str = TOKEN) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_", "DATABASE_URL", "PORT", "LOG_LEVEL"))}
    env.update(DATABASE_URL=database_url, WEBEX_ACCESS_TOKEN=token, WEBEX_API_BASE_URL=base_url,
               WEBEX_WEBHOOK_SECRET=SECRET, LOG_LEVEL="DEBUG")
    return env


def leadsbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)


def test_settings_repr_hides_every_secret():
    settings = Settings.from_env({"WEBEX_ACCESS_TOKEN": TOKEN, "WEBEX_WEBHOOK_SECRET": SECRET,
                                  "DATABASE_URL": f"postgresql://leadsbot:{PASSWORD}@db.internal:5432/leadsbot"})
    for shown in (repr(settings), str(settings), f"{settings}", f"{settings!r}", repr([settings])):
        assert_no_secret(shown)
        assert "***" in shown and "db.internal" in shown
    assert settings.webex_access_token == TOKEN  # hidden from view only


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_shell_and_dispatch_log_no_secret_at_debug(db_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # its statements and pool, off unless asked for
    settings = Settings.from_env({"DATABASE_URL": with_password(db_url), "WEBEX_ACCESS_TOKEN": TOKEN,
                                  "WEBEX_WEBHOOK_SECRET": SECRET})
    services = build_services(settings)
    try:
        load_inventory_file(services.db, DEMO_INVENTORY, actor="test")
        logging.getLogger("leadsbot.test").info("settings: %r", settings)
        shell = Shell(services, ADMIN, tmp_path)
        for line in SCRIPT:
            assert shell.say(line).markdown
        assert "not an operator" in Shell(services, "mallory@evil.example", tmp_path).say("leads").markdown

        def broken_download() -> bytes:
            raise RuntimeError("download failed")

        request = Request(OPERATOR, "room", f"import {ROMA}", attachments=(Attachment("n.csv", broken_download, 9),))
        assert APOLOGY in dispatch(services, request).markdown  # logged with its traceback
    finally:
        services.db.dispose()
    down = build_services(Settings(database_url=f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/x"))
    assert DATABASE_DOWN in Shell(down, ADMIN, tmp_path).say("leads").markdown
    down.db.dispose()
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records), "SQL was not logged at DEBUG"
    assert any(r.exc_text or r.exc_info for r in caplog.records), "no traceback was logged"
    assert_no_secret(caplog.text)
    for record in caplog.records:
        assert_no_secret(record.getMessage())


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_cli_processes_print_no_secret_at_debug(db, db_url, tmp_path):
    """`db upgrade`, `inventory load`, `shell`, `webhooks register` (right and wrong token) and
    `serve` answering a signed webhook, all with LOG_LEVEL=DEBUG against the fake Webex."""
    outputs: list[str] = []
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    with FakeWebex(bot_token=TOKEN) as fake:
        env = environment(with_password(db_url), fake.base_url)
        port = free_port()
        url = f"http://127.0.0.1:{port}/webhooks/webex"
        wrong = environment(with_password(db_url), fake.base_url, token=f"{TOKEN}wrong")
        script = "\n".join(SCRIPT) + "\n"
        runs = [  # independent of each other, so they run side by side
            (leadsbot("db", "upgrade", env=env, cwd=tmp_path), "", 0),
            (leadsbot("inventory", "load", str(DEMO_INVENTORY), env=env, cwd=tmp_path), "", 0),
            (leadsbot("shell", "--as", ADMIN, "--files", str(tmp_path / "files"), env=env, cwd=tmp_path), script, 0),
            (leadsbot("webhooks", "register", url, env=env, cwd=tmp_path), "", 0),
            (leadsbot("webhooks", "register", url, env=wrong, cwd=tmp_path), "", 1),
        ]
        for process, stdin, expected in runs:
            out, err = process.communicate(stdin, timeout=120)
            assert process.returncode == expected, (process.args, err[-2000:])
            outputs += [out, err]
        assert "**10** numbers stored" in outputs[4] and "Webex refused" in outputs[9]

        server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--no-scheduler"],
                                  env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert wait_until(lambda: healthy(port) or server.poll() is not None, timeout=30) and healthy(port)
            room = fake.add_room("ops", "direct")
            message = fake.user_message(OPERATOR, room, "leads")
            envelope = fake.message_envelope(message)
            assert fake.deliver(envelope).status_code == 202
            assert wait_until(lambda: len(fake.bot_messages(room)) >= 1)
        finally:
            server.send_signal(signal.SIGTERM)
            output, _ = server.communicate(timeout=30)
        outputs.append(output)
    assert "DEBUG" in output
    for text in outputs:
        assert_no_secret(text)
