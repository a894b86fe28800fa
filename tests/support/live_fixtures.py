"""Pytest fixtures for the running bot (`tests.support.live`) against the fake Webex, for every suite.

`live` gives a bot whose webhooks are registered at the fake; `make_live(...)` starts one with a
stand-in dispatch or changed settings.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from store.db import Database
from tests.support.fakewebex.server import FakeWebex
from tests.support.live import LiveBot, LiveBots


@pytest.fixture
def make_live(db: Database, fake_webex: FakeWebex):
    """Start the bot (optionally with a stand-in dispatch or settings changes); stopped after the test."""
    bots = LiveBots(db, fake_webex)
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    yield bots.start
    bots.stop_all()


@pytest.fixture
def live(make_live) -> Iterator[LiveBot]:
    yield make_live()
