"""Markdown injection (issue 16): whatever a person wrote and a reply shows stays literal text.

A stranger once got the bot to post `[Reset your password](https://evil.example) <@all>`; the same
break-out worked through every command that echoes its arguments, option values, invalid-row
samples, attachment names, and names from the inventory. Each reply here is parsed with a real
CommonMark parser (`tests.support.markdown`): no link, mention, heading or HTML may come out,
and no piece of the payload may stand outside a code span.
"""
from __future__ import annotations

import csv
import io
import json
import shlex

import pytest
from sqlalchemy import select

from bot.cards import fallback_text
from provisioning.directory import NOT_AN_OPERATOR
from provisioning.inventory import parse_inventory
from provisioning.inventory.loader import load_inventory
from provisioning.leads.digests import build_digest
from provisioning.sync.notices import failed_text, ready_text
from provisioning.text import literal
from store.models import AuditEntry, Tenant, utcnow
from tests.reliability.conftest import ROMA, check_reply, snapshot
from tests.support.chat import ADMIN
from tests.support.markdown import assert_literal, outside_code

STRANGER = "mallory@elsewhere.example"
HOSTILE = "x` [Reset your password](https://evil.example) <@all> `\n\n# Pwned\n\n**loud** ``"
MARKERS = ("evil.example", "Reset your password", "Pwned", "@all", "**loud**")
WORD = shlex.quote(HOSTILE)


def said(chat, text: str, **kwargs):
    reply = chat.say(text, **kwargs)
    check_reply(reply)
    assert_literal(reply.markdown, MARKERS)
    return reply


def refusals(db, email: str) -> list[AuditEntry]:
    with db.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.actor == email,
                                                             AuditEntry.action == "access.refused")))


def test_the_literal_helper_renders_anything_as_one_code_span():
    for text in (HOSTILE, "`", "``", "a`b", "\n\n", "<@all>", "https://evil.example", "\r\n# x", "\u2028x",
                 "|a|b|", "<script>alert(1)</script>", "&lt;@all&gt;", " ", "\\`x\\`"):
        rendered = literal(text, 200)
        assert_literal(f"Echo: {rendered}.", ("evil.example", "@all", "script", "# x"))
        assert outside_code(f"Echo: {rendered}.") == "Echo: ."
    assert literal("roma-cc") == "`roma-cc`"
    assert literal("x" * 100, 10) == "`xxxxxxxxx…`"


def test_a_stranger_gets_a_fixed_refusal_that_echoes_nothing_and_is_audited(chat):
    db = chat.services.db
    before = snapshot(db)
    messages = [HOSTILE, f"leads {WORD}", f"help {WORD}", f"upload {WORD}", "tenant", '"unbalanced', "\x00x"]
    for text in messages:
        assert said(chat, text, as_=STRANGER).markdown == NOT_AN_OPERATOR
    assert said(chat, "", as_=STRANGER, card={"action": HOSTILE}).markdown == NOT_AN_OPERATOR
    assert said(chat, "", as_=STRANGER, files=((HOSTILE, b"Number\n+390212345678\n"),)).markdown == NOT_AN_OPERATOR
    assert len(refusals(db, STRANGER)) == len(messages) + 2  # one audit entry per refusal
    assert all(HOSTILE not in entry.detail for entry in refusals(db, STRANGER))
    assert snapshot(db) == before


OPERATOR_COMMANDS = [
    WORD,
    f"help {WORD}",
    f"leads {WORD}",
    f"numbers {WORD}",
    f"status {WORD}",
    f"tenant {WORD}",
    f"submit {WORD}",
    f"cancel {WORD}",
    f"digest {WORD}",
    f"upload {WORD}",
    f"upload {WORD} profile=CC-Default sip=PSTN-Milan type=contact-center +390212345678",
    f"upload roma-cc profile={WORD} sip={WORD} type={WORD} cac={WORD} +390212345678",
    f"upload roma-cc profile=CC-Default sip=PSTN-Milan type=service cac={WORD} +390212345678",
    f"upload roma-cc profile=CC-Default sip=PSTN-Milan type=user cac={WORD} +390212345678",
    f"upload {ROMA} info={shlex.quote(HOSTILE * 10)} +390212345678",
    f"upload {ROMA} {WORD} +39{WORD} {shlex.quote('+390212345678-' + HOSTILE)}",
    f"import {WORD}",
]


@pytest.mark.parametrize("command", OPERATOR_COMMANDS, ids=range(len(OPERATOR_COMMANDS)))
def test_every_echo_of_an_operator_command_is_literal(chat, command):
    said(chat, command)


def test_card_inputs_are_echoed_literally(chat):
    said(chat, "", card={"action": HOSTILE})
    said(chat, "", card={"action": "upload", "service": HOSTILE, "number": "+390212345678", "profile": HOSTILE})
    said(chat, "", card={"action": "upload", "service": "roma-cc", "number": HOSTILE, "profile": "CC-Default",
                         "sip": "PSTN-Milan", "type": "contact-center", "entry_mode": "range", "range_end": HOSTILE})
    said(chat, "", card={"action": "submit", "upload_id": HOSTILE})


def hostile_csv(*rows: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_attachment_names_cells_and_headers_are_echoed_literally(chat):
    name = f"{HOSTILE}.csv"
    said(chat, f"import {ROMA}", files=((name, b""),))
    said(chat, f"import {ROMA}", files=((name, hostile_csv([HOSTILE], ["+390212345678"])),))
    said(chat, f"import {ROMA}", files=((name, b"PK\x03\x04 damaged"),))
    cells = [["Number", "Range End"], *([f"+39{HOSTILE}", HOSTILE] for _ in range(3)), ["+390212345600", HOSTILE],
             [f"={HOSTILE}", ""], ["+390212345601", "+390212345602"]]
    reply = said(chat, f"import {ROMA}", files=((name, hostile_csv(*cells)),))
    assert "**2** valid numbers" in reply.markdown
    said(chat, "inventory", files=((name, b"\xff\xfe\x00bad"),))


def test_inventory_problems_are_echoed_literally(chat):
    quoted = json.dumps(HOSTILE)
    text = (f"tenants:\n  - name: Acme SP\n    {quoted}: 1\n    customers:\n      - name: {quoted}\n"
            f"        services:\n          - {{name: {quoted}, product: {quoted}}}\n")
    reply = said(chat, "inventory", files=(("inventory.yaml", text.encode()),))
    assert "Inventory not loaded" in reply.markdown
    said(chat, "inventory", files=(("inventory.yaml", f"{HOSTILE}: [".encode()),))


HOSTILE_NAMES = {  # one hostile name per kind, each distinct so a command can name it
    "tenant": f"T {HOSTILE}", "customer": f"C {HOSTILE}", "service": f"s {HOSTILE}", "channel": f"ch {HOSTILE}",
    "org": f"o {HOSTILE}", "location": f"l {HOSTILE}", "profile": f"p {HOSTILE}", "sip": f"sip {HOSTILE}",
}


@pytest.fixture
def hostile_tenant(chat):
    """A tenant whose admin wrote hostile names everywhere the inventory allows, ADMIN working in it."""
    n = HOSTILE_NAMES
    text = f"""
tenants:
  - name: {json.dumps(n['tenant'])}
    operators: [{{email: {ADMIN}, role: admin}}]
    calling_profiles: [{{name: {json.dumps(n['profile'])}, sbc: {json.dumps(HOSTILE)}}}]
    sip_connections: [{{name: {json.dumps(n['sip'])}}}]
    customers:
      - name: {json.dumps(n['customer'])}
        services:
          - name: {json.dumps(n['service'])}
            channel: {json.dumps(n['channel'])}
            product: webex-cloud-connect
            mode: integrated
            org_id: {json.dumps(n['org'])}
            location_id: {json.dumps(n['location'])}
            country: IT
            consented_on: 2026-10-05T09:30:00Z
"""
    with chat.services.db.sessions.begin() as session:
        load_inventory(session, parse_inventory(text), actor="test")
    said(chat, f"tenant {shlex.quote(n['tenant'])}")
    return n


def test_names_from_the_inventory_are_shown_literally(chat, hostile_tenant):
    n = hostile_tenant
    service, profile, sip = (shlex.quote(n[k]) for k in ("service", "profile", "sip"))
    said(chat, "tenant")
    said(chat, "leads")
    said(chat, f"status {service}")
    said(chat, f"upload {service}")
    said(chat, f"upload {service} profile=nope sip=nope type=service +390212345678")
    said(chat, "upload s profile=p sip=si type=service +390212345678")  # prefixes matching one name
    said(chat, "status x")
    preview = said(chat, f"upload {service} profile={profile} sip={sip} type=service +390212345678 +390212345679")
    assert "**2** valid numbers" in preview.markdown
    assert_literal(fallback_text(preview.card), MARKERS)
    said(chat, f"upload {service} profile={profile} sip={sip} type=service +390212345679")
    said(chat, "cancel")
    said(chat, "submit 1")
    said(chat, "numbers +3902")
    said(chat, "numbers C")
    said(chat, "digest daily 08:00")
    said(chat, "inventory", files=(("inventory.yaml", b"tenants:\n  - name: Acme SP\n"),))


def test_digests_and_notices_show_names_literally(chat, hostile_tenant):
    with chat.services.db.sessions() as session:
        tenant_id = session.scalar(select(Tenant.id).where(Tenant.name == hostile_tenant["tenant"]))
        digest = build_digest(session, tenant_id, utcnow())
    assert_literal(digest, MARKERS)
    assert_literal(ready_text(hostile_tenant["service"], 3), MARKERS)
    assert_literal(failed_text(hostile_tenant["service"], "[503] Service Unavailable", 1, 3), MARKERS)
    assert_literal(fallback_text({"kind": "upload-form", "service": HOSTILE}), MARKERS)
