"""Unusable configuration is one clear line on every command (SPEC §6), never a traceback."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import main
from store.db import connect, database_url
from tests.support.databases import postgres_database


def run(args: list[str], **env: str):
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.output


@pytest.mark.parametrize("url", ["mysql://user:secret@db.example/leads", "not a url"])
def test_an_unsupported_database_url_is_one_line(url, tmp_path):
    output = run(["inventory", "load", str(tmp_path / "x.yaml")], DATABASE_URL=url)
    assert output.startswith("Error: DATABASE_URL") and output.count("\n") == 1, output
    assert "secret" not in output


@pytest.mark.parametrize("variable", ["MAX_ROWS", "SYNC_POLL_SECONDS", "INBOX_THREADS"])
def test_a_number_setting_that_is_not_a_number_is_one_line(variable):
    output = run(["db", "upgrade"], **{variable: "lots"})
    assert output == f"Error: {variable} must be a whole number, not 'lots'\n"


def test_a_postgres_database_without_the_schema_says_to_upgrade(postgres_url):
    """Seen with `inventory load` on a fresh PostgreSQL database: `relation "operators" does not exist`."""
    with postgres_database(migrate=False) as fresh:
        output = run(["inventory", "load", "provisioning/inventory/data/demo.yaml"], DATABASE_URL=fresh)
        assert output == "Error: the database has no leadsbot schema yet: run `leadsbot db upgrade`\n"
        upgraded = CliRunner().invoke(main, ["db", "upgrade"], env={"DATABASE_URL": fresh})
        assert upgraded.exit_code == 0, upgraded.output
        db = connect(fresh, auto_upgrade=False)
        with db.engine.begin() as conn:  # as if this release had a newer migration than the database
            conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        db.dispose()
        output = run(["worker"], DATABASE_URL=fresh, WEBEX_ACCESS_TOKEN="t")
        assert output.startswith("Error: the database schema is at revision 0001, this release needs ")
        assert output.endswith("run `leadsbot db upgrade`\n")


def test_postgres_urls_select_psycopg():
    assert database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
