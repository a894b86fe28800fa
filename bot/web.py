"""The web process of `leadsbot serve`: gunicorn, run programmatically, that only records and acknowledges.

`leadsbot serve` starts this as a child process (`python -m bot.web --bind HOST:PORT`) and does
the processing itself at a lower CPU priority, so acknowledgements never wait behind an import
(SPEC §8). A recorded event wakes the processing side through a pipe whose write end the
parent hands over (`LEADSBOT_WAKE_FD`), instead of it waiting for its next poll.
"""
from __future__ import annotations

import argparse
import os
import sys

from gunicorn.app.base import BaseApplication

from bot import gunicorn_conf

WAKE_FD_VARIABLE = "LEADSBOT_WAKE_FD"
WEBHOOK_MODE_VARIABLE = "LEADSBOT_WEBHOOK_MODE"  # "0" when events come over the websocket instead
EXPECT_SCHEDULER_VARIABLE = "LEADSBOT_EXPECT_SCHEDULER"  # "1" when `serve` runs the scheduler
COPIED_SETTINGS = ("workers", "threads", "worker_class", "graceful_timeout", "timeout", "accesslog",
                   "post_fork", "worker_exit", "on_starting", "child_exit", "on_exit")


class PipeWaker:
    """Writes one byte per recorded event; a full pipe means the reader is awake already."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self) -> None:
        try:
            os.write(self.fd, b".")
        except (BlockingIOError, BrokenPipeError, OSError):
            pass


class WebServer(BaseApplication):
    """gunicorn with the settings of the Procfile's `web` (bot/gunicorn_conf.py) and a given bind."""

    def __init__(self, bind: str, workers: int | None = None) -> None:
        self.bind = bind
        self.workers = workers
        super().__init__()

    def load_config(self) -> None:
        for name in COPIED_SETTINGS:
            self.cfg.set(name, getattr(gunicorn_conf, name))
        if hasattr(gunicorn_conf, "logconfig_dict"):
            self.cfg.set("logconfig_dict", gunicorn_conf.logconfig_dict)
        self.cfg.set("bind", [self.bind])
        if self.workers:
            self.cfg.set("workers", self.workers)

    def load(self):
        from bot.app import create_app, runtime_of

        app = create_app(start_workers=False)
        runtime = runtime_of(app)
        runtime.webhook_mode = os.environ.get(WEBHOOK_MODE_VARIABLE, "1") != "0"
        runtime.expect_scheduler = os.environ.get(EXPECT_SCHEDULER_VARIABLE) == "1"
        fd = os.environ.get(WAKE_FD_VARIABLE)
        if fd:
            runtime.notify = PipeWaker(int(fd))
        return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.web", description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True, help="HOST:PORT to listen on")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn worker processes")
    args = parser.parse_args(argv)
    sys.argv = [sys.argv[0]]  # gunicorn must not read our options as its own
    WebServer(args.bind, args.workers).run()


if __name__ == "__main__":
    main()
