"""The `leadsbot` command's entry point: prepares what must exist before anything is imported.

`leadsbot serve` counts metrics in two processes (the gunicorn child that acknowledges, this
process that processes), which prometheus_client can sum only in its multiprocess mode, chosen
when prometheus_client is first imported: so the shared folder is made here, before the CLI.
"""
from __future__ import annotations

import sys

from bot import metrics_folder


def main() -> None:
    if "serve" in sys.argv[1:]:
        metrics_folder.make_for_serve()
    from bot.cli import main as cli_main

    cli_main()
