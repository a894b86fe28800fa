"""Pytest fixture for the fake Webex cloud; wire it in with
`from tests.fakewebex.fixtures import fake_webex  # noqa: F401` in a conftest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeWebex


@pytest.fixture
def fake_webex() -> Iterator[FakeWebex]:
    """A started FakeWebex, stopped after the test; the bot token is `fake_webex.bot_token`."""
    with FakeWebex() as fake:
        yield fake
