"""The shell as people meet it (issue 12): the demo reaches Ready through a simulated customer Webex,
a terminal gets line editing, history and a progress line, and Ctrl-C ends cleanly."""
from __future__ import annotations

import fcntl
import io
import os
import pty
import select
import subprocess
import sys
import termios

from click.testing import CliRunner

from bot.cli import main
from bot.shell import Shell
from handlers import Services
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings

ROMA = "roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"


def test_demo_simulates_the_customer_webex_until_ready(db, db_url, tmp_path):
    script = f"upload {ROMA} +390212345600-609\nsubmit\nstatus roma-cc\nleads roma\n"
    result = CliRunner().invoke(main, ["shell", "--demo", "--files", str(tmp_path / "files")], input=script,
                                env={"DATABASE_URL": db_url}, catch_exceptions=False)
    out = result.output
    assert result.exit_code == 0, out
    assert "the customer's Webex is simulated" in out
    assert "[simulated customer Webex] sync: 10 added, 10 live" in out
    assert "[simulated customer Webex] the bot posts: ✅ `roma-cc` is Ready: 10 numbers live in Webex" in out
    status = out[out.index("> status roma-cc"):]
    assert "— **Ready**" in status and "live 10" in status
    assert out.count("is Ready") == 1  # once


def test_demo_releases_from_both_kinds_of_service(db, db_url, tmp_path):
    """The simulation removes what the bot removes (integrated) and what the customer's admin removes
    in Control Hub (non-integrated), so a release reaches "released" in the demo too."""
    roma_cx = ROMA.replace("roma-cc", "roma-cx", 1)
    script = (f"upload {ROMA} +390212345600-609\nsubmit\nrelease roma-cc +390212345600-602\nsubmit\n"
              f"upload {roma_cx} +390612345600-604\nsubmit\nrelease roma-cx +390612345600\nsubmit\n"
              "status roma-cc\nstatus roma-cx\n")
    result = CliRunner().invoke(main, ["shell", "--demo", "--files", str(tmp_path / "files")], input=script,
                                env={"DATABASE_URL": db_url}, catch_exceptions=False)
    out = result.output
    assert result.exit_code == 0, out
    assert "Traceback" not in out
    assert "the bot posts: ✅ `roma-cc`: 3 numbers released" in out
    assert "- 1 waits until the customer removes it in Control Hub" in out
    assert "the bot posts: ✅ `roma-cx`: 1 number released" in out
    assert "live 7" in out[out.index("> status roma-cc"):] and "live 4" in out[out.index("> status roma-cx"):]


def test_without_demo_nothing_is_simulated(db, db_url, tmp_path):
    result = CliRunner().invoke(main, ["shell", "--as", "ops@acme.example", "--files", str(tmp_path)],
                                input="help\n", env={"DATABASE_URL": db_url}, catch_exceptions=False)
    assert "simulated" not in result.output


class Interrupted(io.StringIO):
    """Standard input where the operator presses Ctrl-C after the given lines."""

    def __init__(self, text: str) -> None:
        super().__init__(text)

    def readline(self, *args) -> str:
        line = super().readline(*args)
        if not line:
            raise KeyboardInterrupt
        return line


def test_ctrl_c_ends_the_shell_cleanly(db, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    out = io.StringIO()
    Shell(Services(db, Settings()), "ops@acme.example", tmp_path, out=out).run(Interrupted("tenant Acme SP\n"))
    assert "You now work in tenant" in out.getvalue()
    assert out.getvalue().rstrip().endswith("Interrupted: nothing half-done was stored (each command is all or "
                                            "nothing). Bye.")


def test_progress_line_on_a_terminal_is_rewritten_and_cleared(db, tmp_path):
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    out, progress = io.StringIO(), io.StringIO()
    shell = Shell(Services(db, Settings(progress_after_seconds=0, progress_every=0)), "ops@acme.example",
                  tmp_path, out=out, progress_out=progress)
    shell.run(io.StringIO(f"tenant Acme SP\nupload {ROMA} +390212300000-9999, +390212310000-9999,"
                          " +390212320000-9999\n"))
    assert "**30,000** valid numbers" in out.getvalue()
    shown = progress.getvalue()
    assert "\r\x1b[K⏳ 20,000 of 30,000 numbers checked (66%)…" in shown and shown.endswith("\r\x1b[K")


def _read_until(fd: int, wanted: str, seen: list[str], limit: float = 60) -> str:
    """Terminal output until `wanted` appears (or `limit` seconds pass, then the test fails)."""
    text = "".join(seen)
    while wanted not in text:
        ready, _, _ = select.select([fd], [], [], limit)
        assert ready, f"{wanted!r} never appeared in: {text[-500:]!r}"
        try:
            chunk = os.read(fd, 4096).decode(errors="replace")
        except OSError:
            break
        seen.append(chunk)
        text += chunk
    return text


def _own_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, so Ctrl-C sends SIGINT."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_terminal_has_line_editing_history_and_ctrl_c(db_url, tmp_path):
    main_fd, child_fd = pty.openpty()
    env = {**os.environ, "DATABASE_URL": db_url, "HOME": str(tmp_path), "TERM": "xterm"}
    process = subprocess.Popen([sys.executable, "-m", "bot", "shell", "--demo", "--files", str(tmp_path)],
                               stdin=child_fd, stdout=child_fd, stderr=child_fd, env=env, close_fds=True,
                               preexec_fn=_own_terminal)
    os.close(child_fd)
    seen: list[str] = []
    try:
        _read_until(main_fd, "leadsbot> ", seen)
        os.write(main_fd, b"elp\x01h\r")  # Ctrl-A goes to the start of the line: "help"
        _read_until(main_fd, "shows every example of a command", seen)
        os.write(main_fd, b"\x1b[A\x05 upload\r")  # up arrow recalls "help", Ctrl-E to the end: "help upload"
        _read_until(main_fd, "Usage: `upload SERVICE", seen)
        os.write(main_fd, b"\x03")  # Ctrl-C
        text = _read_until(main_fd, "Bye.", seen)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main_fd)
    assert "Traceback" not in text
    assert (tmp_path / ".leadsbot_history").read_text().splitlines()[-2:] == ["help", "help upload"]
