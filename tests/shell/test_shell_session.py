"""End-to-end `leadsbot shell` sessions, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner
from sqlalchemy import func, select

from bot.cli import main
from store.models import Number

ROMA = "roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"


def run_shell(db_url: str, tmp_path, script: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["shell", *args, "--files", str(tmp_path / "files")], input=script,
                                env={"DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_session_range_and_csv_then_submit_and_search(db, db_url, tmp_path):
    csv_path = tmp_path / "numbers.csv"
    rows = ["Number,Range End", "+390212345700,+390212345749", '"+39 02 1234 5750",']
    rows += ["390212345751,", "1.21278815E+10,", "=+390212345752,", "+12127881500,", "+390212345700,"]
    csv_path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    script = "\n".join([
        f"upload {ROMA} +390212345600-699",
        "submit",
        f"import {ROMA} file={csv_path}",
        "submit",
        "numbers +3902123457",
        "numbers roma-cc",
        "status roma-cc",
    ]) + "\n"
    out = run_shell(db_url, tmp_path, script, "--demo")
    assert "**100** valid numbers" in out
    assert "**100** numbers stored for `roma-cc`" in out
    assert "**51** valid numbers" in out and "**4** invalid" in out and "**1** repeated" in out
    assert "missing + sign" in out and "scientific notation" in out and "formula" in out
    assert "wrong country — expected +39" in out
    assert "**51** numbers stored for `roma-cc`" in out
    assert "**Numbers matching `+3902123457`**: 51" in out
    assert "**Numbers matching `roma-cc`**: 151" in out
    assert "numbers-export.csv written to" in out
    assert (tmp_path / "files" / "numbers-export.csv").exists()
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Number)) == 151
        assert session.scalar(select(func.min(Number.e164))) == "+390212345600"
        assert session.scalar(select(func.max(Number.e164))) == "+390212345750"


def test_preview_in_one_run_is_submitted_in_the_next(db, db_url, tmp_path):
    out = run_shell(db_url, tmp_path, f"upload {ROMA} +390212345600-609\n", "--demo")
    assert "Preview #1" in out
    out = run_shell(db_url, tmp_path, "submit\n", "--as", "ops@acme.example")
    assert "**10** numbers stored" in out


def test_shell_needs_an_identity(db_url, tmp_path):
    result = CliRunner().invoke(main, ["shell"], input="help\n", env={"DATABASE_URL": db_url, "LEADSBOT_OPERATOR": ""})
    assert result.exit_code == 2 and "--as EMAIL" in result.output


def test_console_script_runs_the_demo_on_a_fresh_sqlite_file(tmp_path):
    """The README's first command, as a real process, on a database that does not exist yet."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    result = subprocess.run([sys.executable, "-m", "bot", "shell", "--demo", "--files", str(tmp_path / "f")],
                            input="help\nleads\ntemplate\n", capture_output=True, text=True, env=env, timeout=60,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "leadsbot" in result.stdout and "Pizzeria Roma S.p.A." in result.stdout
    assert (tmp_path / "f" / "numbers-template.xlsx").exists()


def test_unreachable_database_is_one_clear_line(tmp_path):
    result = CliRunner().invoke(main, ["shell", "--demo"], input="help\n",
                                env={"DATABASE_URL": "postgresql://postgres:hunter2@127.0.0.1:1/nowhere"})
    assert result.exit_code == 1
    assert "can't reach the database" in result.output and "Traceback" not in result.output
    assert "hunter2" not in result.output
