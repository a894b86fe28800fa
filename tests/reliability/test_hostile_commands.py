"""Hostile command text: quotes, look-alike characters, SQL metacharacters, huge lines and values.

Each gets a clear answer within one Webex message, the tables stay intact, and nothing invalid
is stored.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, inspect, select

from provisioning.settings import Settings
from store.models import Base, Number, Upload
from tests.reliability.conftest import ROMA, Snapshot, check_reply, snapshot

UPLOAD = f"upload {ROMA}"
NOTHING = Snapshot(frozenset(), 0, 0, 0)
SQL = ["'; DROP TABLE numbers; --", "roma-cc' OR '1'='1", '" OR 1=1 --', "%", "_", "%%", "\\", "\\%", "r_ma-cc",
       "roma%", "1; DELETE FROM numbers"]


def say(chat, text: str, **kwargs):
    reply = chat.say(text, **kwargs)
    check_reply(reply)
    return reply


@pytest.fixture
def stored(chat):
    """Twenty numbers already stored for roma-cc, so that a query matching too much would show."""
    say(chat, f"{UPLOAD} +390212345600-619")
    assert "**20** numbers stored" in say(chat, "submit").markdown
    return snapshot(chat.services.db)


def tables_intact(chat) -> None:
    names = set(inspect(chat.services.db.engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= names


UNBALANCED = [
    f'{UPLOAD} info="unterminated +390212345678',
    f"{UPLOAD} info='it is +390212345678",
    'leads "roma',
    'numbers "+39',
    "tenant 'Acme SP",
    f'{UPLOAD} +390212345678 "',
]


def test_unbalanced_quotes_are_explained(chat):
    for text in UNBALANCED:
        assert "check the quotes" in say(chat, text).markdown, text
    assert snapshot(chat.services.db) == NOTHING


LOOK_ALIKES = [
    ("\uff0b390212345678", "contains '＋' (U+FF0B)"),
    ("\u2795390212345678", "contains '➕' (U+2795)"),
    ("+39\uff10212345678", "contains '０' (U+FF10)"),
    ("+\uff13\uff19\uff10\uff12\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18", "contains '３' (U+FF13)"),
    ("+\u0663\u0669\u0660212345678", "contains '٣' (U+0663)"),
    ("+39O212345678", "contains 'O'"),
]


def test_look_alike_plus_and_digits_are_named(chat):
    for entry, reason in LOOK_ALIKES:
        reply = say(chat, f"{UPLOAD} {entry}")
        assert reason in reply.markdown and "**0** valid numbers" in reply.markdown, entry
        assert "type the number with plain digits and +" in reply.markdown
    reply = say(chat, f"{UPLOAD} +39\u200b0212345678\u2060")  # invisible characters from copy-paste go
    assert "**1** valid number" in reply.markdown
    assert snapshot(chat.services.db).numbers == frozenset()


def test_sql_metacharacters_match_nothing_and_harm_nothing(chat, stored):
    for text in SQL:
        quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
        assert "No numbers match" in say(chat, f"numbers {quoted}").markdown, text
        assert "No services matching" in say(chat, f"leads {quoted}").markdown, text
        assert "No service `" in say(chat, f"status {quoted}").markdown, text
        assert "No service `" in say(chat, f"upload {quoted} profile=CC-Default sip=PSTN-Milan type=user "
                                           "+390212345699").markdown, text
        reply = say(chat, f"upload roma-cc profile={quoted} sip={quoted} type=service +390212345699")
        assert "No calling profile `" in reply.markdown and "No SIP connection `" in reply.markdown, text
        assert "is not one of your tenants" in say(chat, f"tenant {quoted}").markdown, text
    tables_intact(chat)
    assert snapshot(chat.services.db) == stored


def test_sql_metacharacters_in_values_are_stored_as_text(chat):
    info = "'; DROP TABLE numbers; -- 100% _ \\"
    reply = say(chat, f'{UPLOAD} info="{info.replace(chr(92), chr(92) * 2)}" +390212345678')
    assert "**1** valid number" in reply.markdown
    say(chat, "submit")
    with chat.services.db.sessions() as session:
        assert session.scalar(select(Upload.service_info)) == info
    tables_intact(chat)


LONG_LINES = [
    "x" * 10_000,
    "upload " + "x" * 10_000,
    "status " + "r" * 10_000,
    "leads " + "%" * 10_000,
    "numbers " + "+39" + "0" * 10_000,
    "numbers " + "a " * 5_000,
    "tenant " + "A" * 10_000,
    "help " + "h" * 10_000,
    "submit " + "9" * 10_000,
    "cancel #" + "1" * 10_000,
    "digest daily " + "8" * 10_000,
    f"{UPLOAD} " + "9" * 10_000,
    f"{UPLOAD} " + "+39" + "0" * 10_000,
    f"{UPLOAD} " + "=+39" + "0" * 10_000,
    f"{UPLOAD} +390212345600-" + "9" * 10_000,
    f"{UPLOAD} " + " ".join(["+39" + "1" * 1_000] * 10),
    f"upload roma-cc {'k' * 10_000}=1 +390212345678",
    f"upload roma-cc profile={'p' * 10_000} sip={'s' * 10_000} type={'t' * 10_000} cac={'c' * 10_000} +390212345678",
    "import " + "x" * 10_000,
]


def test_ten_thousand_character_lines_get_short_answers(chat):
    for text in LONG_LINES:
        assert len(say(chat, text).markdown.encode()) < 3000, text[:80]
    assert snapshot(chat.services.db).numbers == frozenset()


def test_a_long_line_of_valid_numbers_is_read_whole(chat):
    numbers = [f"+3902123{n:05d}" for n in range(700)]
    line = f"{UPLOAD} " + ", ".join(numbers)
    assert len(line) > 10_000
    assert "**700** valid numbers" in say(chat, line).markdown
    assert "**700** numbers stored" in say(chat, "submit").markdown


def test_service_info_over_255_characters_is_refused(chat):
    reply = say(chat, f'{UPLOAD} info="{"i" * 256}" +390212345678')
    assert "info= is 256 characters: at most 255." in reply.markdown
    assert snapshot(chat.services.db) == NOTHING
    assert "**1** valid number" in say(chat, f'{UPLOAD} info="{"é" * 255}" +390212345678').markdown
    say(chat, "submit")
    with chat.services.db.sessions() as session:
        assert session.scalar(select(Upload.service_info)) == "é" * 255


BAD_CAC = ["-5", "0", "1", "1.5", "2e3", "\uff15", "99999999999999999999", "9" * 10_000, str(2**31), "0x10"]


def test_bad_cac_values_are_refused(chat):
    for cac in BAD_CAC:
        reply = say(chat, f"upload roma-cc profile=CC-Default sip=PSTN-Milan type=service cac={cac} +390212345678")
        assert "CAC must be a whole number of 2 or more" in reply.markdown, cac
    assert snapshot(chat.services.db) == NOTHING


def test_largest_cac_is_stored(chat):
    cac = 2**31 - 1
    assert "**1** valid number" in say(chat, f"upload roma-cc profile=CC-Default sip=PSTN-Milan type=service "
                                             f"cac={cac} +390212345678").markdown
    say(chat, "submit")
    with chat.services.db.sessions() as session:
        assert session.scalar(select(Upload.cac)) == cac


def test_range_one_over_the_limit_is_refused(make_chat):
    chat = make_chat(Settings(max_range=100))
    reply = say(chat, f"{UPLOAD} +390212345600-700")
    assert "range of 101 numbers is over the limit of 100 — split it into smaller ranges" in reply.markdown
    assert "**0** valid numbers" in reply.markdown
    assert "**100** valid numbers" in say(chat, f"{UPLOAD} +390212345600-699").markdown
    assert snapshot(chat.services.db).numbers == frozenset()


def test_range_one_over_the_default_limit_is_refused_without_counting_it_out(chat):
    assert chat.services.settings.max_range == 100_000
    reply = say(chat, "upload bagels-cc profile=CC-Default sip=PSTN-NewYork type=user +12127800000-+12127900000")
    assert "range of 100,001 numbers is over the limit of 100,000" in reply.markdown
    with chat.services.db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Number)) == 0


def test_nul_characters_are_refused_whole(chat):
    for text in ["help\x00", f"{UPLOAD} +390212345678\x00", f'{UPLOAD} info="a\x00b" +390212345678', "leads \x00"]:
        assert "NUL character" in say(chat, text).markdown, text
    assert snapshot(chat.services.db) == NOTHING


def test_nul_characters_in_card_inputs_are_refused_whole(chat):
    reply = say(chat, "", card={"action": "upload", "service": "roma-cc", "profile": "CC-Default", "sip": "PSTN-Milan",
                                "type": "service", "info": "x\x00", "number": "+390212345678"})
    assert "NUL character" in reply.markdown
    assert snapshot(chat.services.db) == NOTHING


def big_inventory(services: int, profiles: int) -> str:
    """A tenant whose names are all 200 characters, two bytes each in UTF-8."""
    def name(kind: str, n: int) -> str:
        return f"{kind}{n:03d}-".ljust(200, "é")

    lines = ["tenants:", "  - name: Big SP", "    operators: [{email: ops@acme.example, role: admin}]",
             "    calling_profiles:", *(f"      - {{name: '{name('p', n)}', sbc: sbc-1}}" for n in range(profiles)),
             "    sip_connections:", *(f"      - {{name: '{name('s', n)}'}}" for n in range(profiles)),
             "    customers:"]
    for n in range(services):
        lines += [f"      - name: '{name('c', n)}'", "        services:",
                  f"          - {{name: '{name('v', n)}', channel: '{name('h', n)}', product: webex-cloud-connect, "
                  f"mode: integrated, org_id: '{name('o', n)}', location_id: LOC, country: IT, "
                  "consented_on: 2026-10-05T09:30:00Z}"]
    return "\n".join(lines) + "\n"


def test_replies_about_a_large_inventory_fit_one_message(chat, tmp_path):
    from provisioning.inventory import load_inventory_file

    path = tmp_path / "big.yaml"
    path.write_text(big_inventory(services=45, profiles=40), encoding="utf-8")
    load_inventory_file(chat.services.db, path, actor="test")
    say(chat, "tenant Big SP")
    profile, sip = "p000-".ljust(200, "é"), "s000-".ljust(200, "é")
    for n in range(20):
        service = f"v{n:03d}-".ljust(200, "é")
        reply = say(chat, f"upload {service} profile={profile} sip={sip} type=service +3902123{n:03d}00-19")
        assert "**20** valid numbers" in reply.markdown
        assert "**20** numbers stored" in say(chat, "submit").markdown
    reply = say(chat, "leads")
    assert "(45 services)" in reply.markdown and "more: narrow it with `leads TEXT`" in reply.markdown
    reply = say(chat, "upload v000")
    assert reply.card["kind"] == "upload-form" and len(reply.card["calling_profiles"]) == 40
    assert re.search(r"Calling profiles: `?p000.* and \d+ more", reply.markdown)
    assert "Known: `p000" in say(chat, "upload v000 profile=nope sip=nope type=user +390212345678").markdown
    reply = say(chat, "numbers +3902")
    assert "**Numbers matching `+3902`**: 400" in reply.markdown and "more services" in reply.markdown
    (export,) = reply.files
    assert export.data.decode("utf-8-sig").count("\n") == 401
    reply = say(chat, "numbers c0")
    assert ": 400" in reply.markdown and reply.files
    assert "v000" in say(chat, "status v000").markdown
