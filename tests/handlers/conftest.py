"""A `chat` fixture: the demo inventory on a real database, and a way to talk to the handlers."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from handlers import Attachment, Reply, Request, Services, dispatch
from provisioning.inventory import DEMO_INVENTORY, load_inventory_file
from provisioning.settings import Settings

ADMIN = "ops@acme.example"
OPERATOR = "eve@acme.example"


@dataclass
class Chat:
    services: Services
    replies: list[Reply] = field(default_factory=list)

    def say(self, text: str, *, as_: str = ADMIN, room: str | None = None,
            files: tuple[tuple[str, bytes], ...] = (), card: dict | None = None) -> Reply:
        attachments = tuple(Attachment(name, (lambda data=data: data), len(data)) for name, data in files)
        request = Request(email=as_, room_id=room or f"room:{as_}", text=text, attachments=attachments,
                          card_inputs=card)
        reply = dispatch(self.services, request)
        self.replies.append(reply)
        return reply


@pytest.fixture
def settings() -> Settings:
    return Settings(max_range=100_000)


@pytest.fixture
def chat(db, settings) -> Chat:
    load_inventory_file(db, DEMO_INVENTORY, actor="test")
    return Chat(Services(db=db, settings=settings))
