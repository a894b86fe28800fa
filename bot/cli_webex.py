"""`leadsbot serve` and `leadsbot webhooks register URL` (added to the root group in bot/cli.py)."""
from __future__ import annotations

import os

import click
import requests
from webexpythonsdk.exceptions import ApiError

from bot.bootstrap import build_webex, configure_logging
from bot.cli_errors import database_errors
from bot.retry import describe
from provisioning.settings import Settings
from provisioning.sync.port import NumbersApiError

WEBHOOK_PATH = "/webhooks/webex"


def resolve_port(port: int | None) -> int:
    """--port, else $PORT (as PaaS platforms set it), else 8080."""
    if port is not None:
        return port
    raw = os.environ.get("PORT", "")
    try:
        return int(raw) if raw else 8080
    except ValueError:
        raise click.BadParameter(f"PORT must be a number, not {raw!r}") from None


def _settings(ctx: click.Context) -> Settings:
    """The root group's Settings when run as `leadsbot ...`, else the environment's."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Settings) else Settings.from_env()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 to accept connections from other hosts).")
@click.option("--port", type=int, default=None, help="Port to listen on [default: $PORT, else 8080].")
@click.option("--no-scheduler", is_flag=True, help="Do not run the sync/digest scheduler in this process.")
@click.option("--websocket", is_flag=True,
              help="Receive events over Webex's websocket (no public URL needed) instead of webhooks.")
@click.option("--nice", "niceness", default=10, show_default=True,
              help="Lower the processing's CPU priority by this much, so acknowledgements stay fast.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int | None, no_scheduler: bool, websocket: bool,
          niceness: int) -> None:
    """Serve POST /webhooks/webex and GET /healthz (gunicorn) and process events in this process."""
    from bot import serve as serving

    settings = _settings(ctx)
    configure_logging(settings.log_level)  # no-op when the root command already did it
    from bot.devices import DeviceError

    options = serving.ServeOptions(host=host, port=resolve_port(port), scheduler=not no_scheduler,
                                   websocket=websocket, niceness=niceness)
    try:
        with database_errors():
            serving.run(settings, options, announce=click.echo)
    except DeviceError as exc:
        raise click.ClickException(str(exc)) from None
    except requests.RequestException as exc:
        raise click.ClickException(f"can't reach Webex ({type(exc).__name__}): check WEBEX_U2C_URL and the "
                                   "network") from None


@click.group("webhooks")
def webhooks() -> None:
    """Manage the bot's Webex webhooks."""


@webhooks.command("register")
@click.argument("url")
@click.pass_context
def register(ctx: click.Context, url: str) -> None:
    """Create or repair the messages and card-action webhooks pointing at URL.

    URL is the public address of POST /webhooks/webex, e.g.
    https://leadsbot.example.com/webhooks/webex. Needs WEBEX_ACCESS_TOKEN and
    WEBEX_WEBHOOK_SECRET; disabled webhooks are re-activated. With a Service App configured,
    also the serviceApp authorized/deauthorized webhooks (with the token manager's token).
    """
    from bot.webhooks_admin import register_service_app_webhooks, register_webhooks

    settings = _settings(ctx)
    if not settings.webex_access_token:
        raise click.ClickException("WEBEX_ACCESS_TOKEN is not set (the bot's access token).")
    if not settings.webex_webhook_secret:
        raise click.ClickException("WEBEX_WEBHOOK_SECRET is not set (any long random string).")
    if not url.startswith(("https://", "http://")):
        raise click.BadParameter("URL must start with https://", param_hint="URL")
    if not url.startswith("https://"):
        click.echo("warning: Webex delivers webhooks in clear text to an http:// URL", err=True)
    if not url.rstrip("/").endswith(WEBHOOK_PATH):
        click.echo(f"warning: the bot listens on {WEBHOOK_PATH}; is the URL complete?", err=True)
    try:
        ids = register_webhooks(build_webex(settings), url, settings.webex_webhook_secret)
        ids += register_service_app_webhooks(settings, url)
    except NumbersApiError as exc:
        raise click.ClickException(f"could not get the token manager's access token: {exc}") from None
    except ApiError as exc:
        raise click.ClickException(f"Webex refused: {describe(exc)}") from None
    except requests.RequestException as exc:
        raise click.ClickException(f"can't reach Webex at {settings.webex_api_base_url} ({type(exc).__name__}): "
                                   "check WEBEX_API_BASE_URL and the network") from None
    click.echo(f"webhooks active at {url}: {', '.join(ids)}")
