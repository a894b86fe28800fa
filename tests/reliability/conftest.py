"""Fixtures for the reliability suite: the demo inventory on a real database, a chat with chosen
limits, and a snapshot of the tables an upload writes, to prove that nothing was stored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pytest
from sqlalchemy import func, select

from handlers import Services
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings
from store.db import Database
from store.models import InvalidEntry, Number, StagedNumber, Upload
from tests.support.chat import ADMIN, Chat

WEBEX_LIMIT = 7439
APOLOGY = "something went wrong on my side"
DATABASE_DOWN = "I can't reach my database right now, so nothing was changed"
ROMA = "roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"


@dataclass(frozen=True)
class Snapshot:
    """Row counts of the upload tables, and every stored number."""

    numbers: frozenset[str]
    uploads: int
    staged: int
    invalid: int


def snapshot(db: Database) -> Snapshot:
    with db.sessions() as session:
        def count(model) -> int:
            return session.scalar(select(func.count()).select_from(model))

        return Snapshot(frozenset(session.scalars(select(Number.e164))), count(Upload), count(StagedNumber),
                        count(InvalidEntry))


def check_reply(reply) -> None:
    """What every reply must be: non-empty Markdown that fits one Webex message, never an apology
    for an unexpected exception or a database error (the database is up in these tests)."""
    assert reply.markdown.strip(), "empty reply"
    size = len(reply.markdown.encode("utf-8"))
    assert size <= WEBEX_LIMIT, f"reply is {size} bytes: {reply.markdown[:300]!r}"
    assert APOLOGY not in reply.markdown and DATABASE_DOWN not in reply.markdown, reply.markdown


@pytest.fixture
def make_chat(db) -> Callable[..., Chat]:
    """A chat over the demo inventory with the given Settings, the admin already in tenant Acme SP."""
    load_inventory_file(db, DEMO_INVENTORY, actor="test")

    def make(settings: Settings | None = None) -> Chat:
        chat = Chat(Services(db=db, settings=settings or Settings()))
        assert "Acme SP" in chat.say("tenant Acme SP", as_=ADMIN).markdown
        return chat

    return make


@pytest.fixture
def chat(make_chat) -> Chat:
    return make_chat()
