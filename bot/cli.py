"""The `leadsbot` command line: shell, inventory, db (and the transport's serve, worker, webhooks)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.bootstrap import build_services, build_wiring, configure_logging
from bot.cli_errors import database_errors
from bot.cli_webex import serve, webhooks
from provisioning.errors import UserError
from provisioning.settings import Settings, SettingsError

DEMO_OPERATOR = "ops@acme.example"
DEMO_TENANT = "Acme SP"


@click.group()
@click.option("--log-level", envvar="LOG_LEVEL", default="WARNING", show_default=True, help="Python logging level.")
@click.pass_context
def main(ctx: click.Context, log_level: str) -> None:
    """leadsbot: upload, validate and sync customer service numbers from Webex chat."""
    try:
        configure_logging(log_level)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        ctx.obj = Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.option("--as", "email", envvar="LEADSBOT_OPERATOR", help="Operator email to act as.")
@click.option("--demo", is_flag=True, help="Load the sample inventory first (and act as its admin by default).")
@click.option("--files", "files_dir", type=click.Path(file_okay=False, path_type=Path), default="leadsbot-files",
              show_default=True, help="Folder for files the bot returns.")
@click.pass_obj
def shell(settings: Settings, email: str | None, demo: bool, files_dir: Path) -> None:
    """Chat with the bot in the terminal (one command per line; files via file=PATH)."""
    from bot.shell import Shell

    if demo:
        email = email or DEMO_OPERATOR
    with database_errors():
        services = build_services(settings, auto_upgrade=True if demo else None)
        if demo:
            _load_demo(services, email)
    if not email:
        raise click.UsageError("Say who you are: --as EMAIL (or --demo to try the sample inventory).")
    if sys.stdin.isatty():
        click.echo(f"leadsbot shell as {email}. Type `help`; files go to {files_dir}/; Ctrl-D quits.")
    after_each = None
    if demo:
        from bot.simulated_webex import SimulatedWebex

        after_each = SimulatedWebex(services, sys.stdout).advance
        click.echo("Demo: the customer's Webex is simulated on this machine, so numbers sync and Ready arrives; "
                   "messages from the simulation are marked [simulated customer Webex].")
    progress_out = sys.stderr if sys.stderr.isatty() else None
    Shell(services, email, files_dir, progress_out=progress_out, after_each=after_each).run(sys.stdin)


def _load_demo(services, email: str) -> None:
    """The sample inventory, and the demo operator placed in its first tenant so the first command just works."""
    from bot.shell import shell_room
    from provisioning.access import switch_tenant, tenants_of
    from provisioning.inventory import DEMO_INVENTORY, load_inventory_file

    load_inventory_file(services.db, DEMO_INVENTORY, actor="shell --demo")
    try:
        if not any(tenant.current for tenant in tenants_of(services.db, email)):
            switch_tenant(services.db, email, DEMO_TENANT, shell_room(email))
    except UserError:  # not an operator of the demo tenant: the shell says what they can do
        pass


@main.group()
def inventory() -> None:
    """Tenants, operators, customers, services, calling profiles and SIP connections."""


@inventory.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def inventory_load(settings: Settings, path: Path) -> None:
    """Load (idempotently upsert) an inventory YAML file."""
    from provisioning.inventory import load_inventory_file

    try:
        with database_errors():
            report = load_inventory_file(build_services(settings).db, path, actor="cli")
    except UserError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(report.summary())


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(settings: Settings) -> None:
    """Apply the Alembic migrations (creates the schema on an empty database)."""
    from store.db import current_revision, upgrade

    with database_errors():
        services = build_services(settings, auto_upgrade=False, require_schema=False)
        upgrade(services.db.engine)
    click.echo(f"database at revision {current_revision(services.db.engine)}")


@main.command()
@click.option("--threads", type=int, default=None, help="Threads processing events [default: INBOX_THREADS, else 4].")
@click.option("--nice", "niceness", default=10, show_default=True,
              help="Lower this process's CPU priority by this much, so the web process acknowledges fast.")
@click.option("--metrics-port", type=int, envvar="METRICS_PORT", default=None,
              help="Serve this process's own /metrics (events processed, Webex calls) on this port [$METRICS_PORT].")
@click.pass_obj
def worker(settings: Settings, threads: int, niceness: int, metrics_port: int | None) -> None:
    """Process webhook events, sync with Webex, send Ready notices and digests (Procfile `worker`)."""
    import os

    from bot.app import build_inbox
    from bot.scheduler import run_worker

    if not settings.webex_access_token:
        raise click.ClickException("WEBEX_ACCESS_TOKEN is not set: without the bot's token the worker can "
                                   "neither answer nor sync. Set it and start the worker again.")
    if niceness:
        os.nice(niceness)
    with database_errors():
        wiring = build_wiring(settings)
    if metrics_port is not None:
        from bot.metrics import serve_in_background

        serve_in_background(metrics_port)
    inbox = build_inbox(wiring, threads=threads, poll_seconds=0.25)
    if inbox is not None:
        inbox.start()
    try:
        run_worker(wiring)
    finally:
        if inbox is not None:
            inbox.stop()


@main.command()
@click.option("--url", help="The public webhook URL (https://…/webhooks/webex) the webhooks must point at.")
@click.pass_obj
def doctor(settings: Settings, url: str | None) -> None:
    """Check the set-up: database, migrations, bot token, webhooks, scheduler, inbox (exit 1 on any ✗)."""
    from bot.doctor import Setup, run

    setup = Setup(settings, url)
    try:
        findings = run(setup)
    finally:
        setup.close()
    for finding in findings:
        click.echo(finding.line())
    if not all(finding.ok for finding in findings):
        raise SystemExit(1)


main.add_command(serve)
main.add_command(webhooks)
