"""`leadsbot serve`: gunicorn acknowledges in a child process; this process processes, at a lower priority.

The split keeps the acknowledgement fast (SPEC §8) however heavy the work: the web child only
records events (bot/web.py), while this process runs the inbox threads, the scheduler and, with
`--websocket`, the client of Webex's event websocket, after lowering its CPU priority. Each
recorded event wakes the inbox through a pipe from the child. Stopping (SIGTERM, Ctrl-C) stops
the child gracefully, then lets the inbox finish the events in hand.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

from bot import metrics_folder
from bot.lull import Lull
from bot.web import EXPECT_SCHEDULER_VARIABLE, WAKE_FD_VARIABLE, WEBHOOK_MODE_VARIABLE
from provisioning.settings import Settings

log = logging.getLogger(__name__)

STOP_SECONDS = 30


@dataclass
class ServeOptions:
    host: str
    port: int
    scheduler: bool = True
    websocket: bool = False
    niceness: int = 10
    web_workers: int | None = None


def start_web(options: ServeOptions) -> tuple[subprocess.Popen, int]:
    """The gunicorn child, and the read end of the pipe its workers wake us through."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    command = [sys.executable, "-m", "bot.web", "--bind", f"{options.host}:{options.port}"]
    if options.web_workers:
        command += ["--workers", str(options.web_workers)]
    env = {**os.environ, WAKE_FD_VARIABLE: str(write_fd), WEBHOOK_MODE_VARIABLE: "0" if options.websocket else "1",
           EXPECT_SCHEDULER_VARIABLE: "1" if options.scheduler else "0"}
    child = subprocess.Popen(command, env=env, pass_fds=(write_fd,))
    os.close(write_fd)
    return child, read_fd


def _relay_wakeups(read_fd: int, wake, lull: Lull) -> None:
    """Each byte from the web child is a recorded event; EOF when every web process is gone."""
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while pipe.read(4096):
            lull.delivered()
            wake()


def run(settings: Settings, options: ServeOptions, announce=print) -> None:
    """Serve until SIGTERM/SIGINT or until the web child exits."""
    from bot.app import build_inbox
    from bot.bootstrap import build_wiring

    wiring = build_wiring(settings)  # before the child starts: a bad configuration fails here, once
    registered = None
    if options.websocket:
        from bot.websocket import register

        registered = register(settings)
    child, read_fd = start_web(options)
    if options.niceness:
        os.nice(options.niceness)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    lull = Lull()
    inbox = build_inbox(wiring, poll_seconds=1.0, lull=lull)
    scheduler = websocket = None
    try:
        if inbox is not None:
            inbox.start()
            threading.Thread(target=_relay_wakeups, args=(read_fd, inbox.wake, lull), name="serve-wakeups",
                             daemon=True).start()
        if options.scheduler:
            from bot.scheduler import start_scheduler

            scheduler = start_scheduler(wiring)
        if registered is not None:
            from bot.websocket import start_listener

            websocket = start_listener(wiring, inbox, *registered)
        announce(f"leadsbot listening on http://{options.host}:{options.port} "
                 + ("(Webex websocket; health /healthz)" if options.websocket
                    else "(webhook /webhooks/webex, health /healthz)"))
        while not stopping.wait(0.5):
            if child.poll() is not None:
                log.error("the web server exited (status %s): stopping", child.returncode)
                break
    except KeyboardInterrupt:
        pass
    finally:
        if websocket is not None:
            websocket.stop()
        _stop_child(child)
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if inbox is not None:
            inbox.stop()
        metrics_folder.remove_made_by_serve()
    if child.returncode not in (0, -signal.SIGTERM, -signal.SIGINT) and not stopping.is_set():
        raise SystemExit(1)


def _stop_child(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
