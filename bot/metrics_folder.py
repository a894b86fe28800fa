"""The folder where prometheus_client's multiprocess mode keeps each process's counts.

It must be in the environment before prometheus_client is first imported (that import picks the
mode). `leadsbot serve` makes a fresh one for its two processes (`bot.launch`) and removes it at
the end; gunicorn alone makes its own (`bot.gunicorn_conf`). Imports nothing of ours.
"""
from __future__ import annotations

import os
import shutil
import tempfile

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MADE_BY_SERVE_ENV = "LEADSBOT_SERVE_METRICS_DIR"  # the folder serve made, fresh: nobody empties it


def make_for_serve() -> None:
    """A fresh folder for serve's processes, unless the environment names one."""
    if not os.environ.get(MULTIPROC_ENV):
        folder = tempfile.mkdtemp(prefix="leadsbot-metrics-")
        os.environ[MULTIPROC_ENV] = os.environ[MADE_BY_SERVE_ENV] = folder


def made_by_serve(folder: str) -> bool:
    """Whether `folder` is the fresh one serve made (its processing side may be counting already)."""
    return os.environ.get(MADE_BY_SERVE_ENV) == folder


def remove_made_by_serve() -> None:
    """Remove the folder serve made (one given in the environment is kept)."""
    folder = os.environ.get(MADE_BY_SERVE_ENV)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
