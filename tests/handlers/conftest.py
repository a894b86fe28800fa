"""A `chat` fixture: the demo inventory on a real database, and a way to talk to the handlers."""
from __future__ import annotations

import pytest

from handlers import Services
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from tests.support.chat import ADMIN, OPERATOR, Chat

__all__ = ["ADMIN", "OPERATOR", "Chat"]


@pytest.fixture
def settings() -> Settings:
    return Settings(max_range=100_000)


@pytest.fixture
def chat(db, settings) -> Chat:
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    return Chat(Services(db=db, settings=settings))
