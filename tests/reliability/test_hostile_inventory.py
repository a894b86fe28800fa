"""Inventories sent in chat (issue 16): who may load is decided before the file is parsed, YAML
anchors and aliases are refused (a 1.6 KB alias bomb once took 18.5 s and 1.28 GB), and the
problems list is capped."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from provisioning.inventory import DEMO_INVENTORY, loader
from store.models import AuditEntry, Tenant
from tests.reliability.conftest import check_reply
from tests.support.chat import ADMIN, OPERATOR

GLOBEX_ADMIN = "bob@globex.example"


def alias_bomb(levels: int = 9) -> bytes:
    """The classic "billion laughs": each level lists the previous one nine times."""
    lines = ['tenants: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"k{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]" for level in range(1, levels + 1)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def parses(monkeypatch) -> list[int]:
    """Sizes of the inventories that reached the YAML parser."""
    seen: list[int] = []
    parse = loader.parse_inventory

    def recording(text: str):
        seen.append(len(text))
        return parse(text)

    monkeypatch.setattr(loader, "parse_inventory", recording)
    return seen


def tenants(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Tenant))


def send(chat, data: bytes, as_: str = ADMIN):
    reply = chat.say("inventory", as_=as_, files=(("inventory.yaml", data),))
    check_reply(reply)
    return reply


def test_the_alias_bomb_is_refused_before_it_expands(chat, parses):
    bomb = alias_bomb()
    assert len(bomb) < 1_700
    start = time.process_time()
    reply = send(chat, bomb)
    bomb_seconds = time.process_time() - start
    assert "YAML anchors and aliases (&a0) are not allowed in an inventory" in reply.markdown
    start = time.process_time()
    acme = DEMO_INVENTORY.read_text().split("\n  - name: Globex SP")[0].encode()  # what ADMIN administers
    assert "Inventory loaded" in send(chat, acme).markdown
    assert bomb_seconds < 5 * (time.process_time() - start) + 0.05  # no slower than loading a real inventory


def test_who_may_load_is_decided_before_the_file_is_parsed(chat, parses):
    db = chat.services.db
    before = tenants(db)
    reply = send(chat, alias_bomb(), as_=OPERATOR)  # an operator, admin of nothing
    assert "is for admins of `Acme SP` only" in reply.markdown
    stranger = send(chat, alias_bomb(), as_="mallory@elsewhere.example")
    assert stranger.markdown.startswith("Sorry, you are not an operator")
    assert parses == []
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "access.refused")) == 2

    naming_acme = DEMO_INVENTORY.read_bytes().replace(b"Thames Tea Rooms Ltd", b"Thames Tea Rooms plc")
    reply = send(chat, naming_acme, as_=GLOBEX_ADMIN)  # an admin, but of Globex only: parsed, then refused
    assert "you are not an admin of `Acme SP`" in reply.markdown and "Nothing was loaded" in reply.markdown
    assert len(parses) == 1 and tenants(db) == before


def test_the_problems_list_is_capped(chat):
    many = ("tenants:\n" + "  - {}\n" * 50_000).encode()  # 50,000 tenants without a name
    reply = send(chat, many)
    assert "Inventory not loaded, 100 problems (checking stopped there):" in reply.markdown
    assert "tenants[0].name: required key is missing" in reply.markdown and "tenants[100]" not in reply.markdown
