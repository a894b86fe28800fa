"""Card tests: the catalog of cards (made once per run) and their renders in headless Chromium.

The renders need Node.js, this folder's npm packages (`npm ci`, run here when node_modules is
missing) and Debian's chromium (`.ci/run` installs it). Without them the render tests fail with
what to install: they are never skipped.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cards.catalog import build

HERE = Path(__file__).parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Screenshots of every card in every renderer, for a person to look at (not committed).
SCREENSHOTS = Path(os.environ.get("CARD_SCREENSHOTS", HERE / "screenshots"))


@pytest.fixture(scope="session")
def catalog(tmp_path_factory):
    cases, chat = build(tmp_path_factory.mktemp("cards"))
    yield cases, chat
    chat.services.db.dispose()


def _npm_packages() -> None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Card renders need Node.js and npm (Debian: apt-get install nodejs npm).")
    if not (HERE / "node_modules" / "adaptivecards").is_dir():
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True)
        if done.returncode:
            pytest.fail(f"`npm ci` in tests/cards failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def renders(catalog, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """Each card rendered by each renderer: {(case name, renderer version): result}."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Card renders need Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
                    "or set CHROMIUM to its path).")
    _npm_packages()
    cases, _ = catalog
    host_config = json.loads((HERE / "host_config.json").read_text(encoding="utf-8"))
    payload = [{"name": c.name, "card": c.card, "hostConfig": host_config, "fill": c.fill, "press": c.press}
               for c in cases]
    cases_file = tmp_path_factory.mktemp("renders") / "cases.json"
    cases_file.write_text(json.dumps(payload), encoding="utf-8")
    done = subprocess.run(["node", str(HERE / "render.mjs"), str(cases_file), str(SCREENSHOTS)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "CHROMIUM": CHROMIUM})
    if done.returncode:
        pytest.fail(f"The card renderer did not run:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return {(r["name"], r["renderer"]): r for r in json.loads(done.stdout)}
