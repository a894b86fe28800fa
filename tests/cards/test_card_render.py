"""Every card rendered by Microsoft's `adaptivecards` 3.0.6 and 2.11.3 in headless Chromium with a
Webex-like host config: no renderer warnings or errors, every input there, and pressing the button
with only the required fields filled submits data the bot answers. Screenshots go to
tests/cards/screenshots/ (CARD_SCREENSHOTS) for a person to look at."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cards.catalog import Case

RENDERERS = ("3.0.6", "2.11.3")
NAMES = ("upload-form", "upload-form-live-cx", "upload-form-40-long-names", "preview")
MAX_HEIGHT = 1500  # px: 40 long names must not make a 4,500-px card


def case_named(catalog, name: str) -> Case:
    return next(case for case in catalog[0] if case.name == name)


@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("name", NAMES)
def test_card_renders_without_warnings_and_submits(catalog, renders, renderer, name):
    case = case_named(catalog, name)
    result = renders[(name, renderer)]
    assert result.get("error") is None, result.get("error")
    assert result["rendered"] and result["events"] == [] and result["console"] == []
    assert [i["id"] for i in result["inputs"]] == case.inputs
    assert all(i["label"] for i in result["inputs"])
    assert 0 < result["height"] <= MAX_HEIGHT
    assert Path(result["screenshot"]).stat().st_size > 0
    submitted = result["submitted"]
    assert submitted is not None, "pressing the button did not submit (an input refused it)"
    assert submitted["title"] == case.press
    data = {key: value for key, value in submitted["data"].items() if value not in ("", None)}
    assert data == case.expected


@pytest.mark.parametrize("renderer", RENDERERS)
def test_the_bot_answers_what_the_upload_card_submits(catalog, renders, renderer):
    _, chat = catalog
    submitted = renders[("upload-form", renderer)]["submitted"]["data"]
    reply = chat.say("", as_="ops@acme.example", card=submitted)
    assert "Preview #" in reply.markdown and "**1** valid number" in reply.markdown
    chat.say("cancel", as_="ops@acme.example")
