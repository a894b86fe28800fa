"""`leadsbot webhooks register URL` run as an operator would, pointed at the fake Webex."""
from __future__ import annotations

from click.testing import CliRunner

from bot.cli_webex import register
from tests.support.processes import SECRET


def register_at(fake, url: str) -> None:
    result = CliRunner().invoke(register, [url], env={"WEBEX_ACCESS_TOKEN": fake.bot_token,
                                                     "WEBEX_API_BASE_URL": fake.base_url,
                                                     "WEBEX_WEBHOOK_SECRET": SECRET})
    assert result.exit_code == 0, result.output
