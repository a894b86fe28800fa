"""The bot's real entry points as separate processes (gunicorn, `leadsbot serve`, `worker`)."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(db, fake, secret: str = SECRET) -> dict[str, str]:
    """This process's environment pointed at `db` and the fake Webex (and nothing else of Webex)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBEX_", "DATABASE_URL", "PORT"))}
    env.update(DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
               WEBEX_ACCESS_TOKEN=fake.bot_token, WEBEX_API_BASE_URL=fake.base_url,
               WEBEX_WEBHOOK_SECRET=secret, LOG_LEVEL="WARNING")
    return env


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


class StartFailed(RuntimeError):
    """The server exited or never answered /healthz; the message ends with its output."""


def start(command: list[str], env: dict[str, str], port: int, timeout: float = 30) -> subprocess.Popen:
    """Start a server and wait until its /healthz answers 200."""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not wait_until(lambda: healthy(port) or process.poll() is not None, timeout=timeout) or not healthy(port):
        process.kill()
        raise StartFailed(f"server did not start: {process.communicate()[0].decode()[-2000:]}")
    return process


def stop(process: subprocess.Popen, how: signal.Signals = signal.SIGTERM) -> tuple[int, str]:
    """Signal the process, wait for it, and return its exit code and output."""
    process.send_signal(how)
    output, _ = process.communicate(timeout=30)
    return process.returncode, output.decode()


def gunicorn_command(port: int, app: str = "bot.app:create_app()", workers: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "-c", "python:bot.gunicorn_conf", "--bind", f"127.0.0.1:{port}"]
    if workers is not None:
        command += ["--workers", str(workers)]
    return [*command, app]
