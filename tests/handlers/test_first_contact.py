"""What an operator meets first (issue 12): typed entries, hints, how entries were read, did you
mean, counts and plurals, word matches in `leads`, grouped ranges, header names. On both databases."""
from __future__ import annotations

import pytest

from handlers import Request, Services, dispatch
from provisioning.settings import Settings
from tests.support.chat import ADMIN

ROMA = "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"
BAGELS = "upload bagels-cc profile=CC-Default sip=PSTN-NewYork type=user"


@pytest.fixture
def acme(chat):
    chat.say("tenant Acme SP")
    return chat


def test_numbers_typed_with_spaces_are_one_entry_each(acme):
    reply = acme.say(f"{ROMA} +39 3331234567, +39 02 12345680, +39 06 1234567")
    assert "(3 entries read)" in reply.markdown and "**2** valid numbers" in reply.markdown
    # roma-cc is integrated: the mobile number is read whole and refused for what it is (issue 10)
    assert "`+393331234567`: mobile number" in reply.markdown


@pytest.mark.parametrize("entries", ["+1 212 788 1610-1619", "+1 212 788 1620 - +1 212 788 1629"])
def test_ranges_typed_with_spaces_are_ranges(acme, entries):
    reply = acme.say(f"{BAGELS} {entries}")
    assert "(1 entry read)" in reply.markdown and "**10** valid numbers" in reply.markdown
    assert "invalid" not in reply.markdown and "(10 numbers)" in reply.markdown


def test_entries_on_new_lines_are_separate(acme):
    reply = acme.say(f"{ROMA}\n+39 02 1234 5600\n0212345701\n+390212345602")
    assert "(3 entries read)" in reply.markdown and "**2** valid numbers" in reply.markdown
    assert "row 2 `0212345701`: missing + sign — write it as +390212345701" in reply.markdown


@pytest.mark.parametrize(("service", "raw", "hint"), [
    (ROMA, "0212345701", "write it as +390212345701"),
    (ROMA, "3331234567", "write it as +393331234567"),
    (BAGELS, "788-1601", "(the area code seems to be missing)"),
])
def test_hints_for_numbers_without_plus(acme, service, raw, hint):
    reply = acme.say(f"{service} {raw}")
    assert hint in reply.markdown
    assert "+0212345701" not in reply.markdown and "+3331234567" not in reply.markdown
    assert "+7881601" not in reply.markdown


def test_preview_shows_how_entries_were_read(acme):
    reply = acme.say(f"{BAGELS} +1212788150-9, +1 212 788 1500 - 1509, +12127881520")
    text = reply.markdown
    assert "Read as:" in text
    assert "- `+1212788150-9` → +12127881509 (the dash read as part of the number)" in text
    assert "- `+1 212 788 1500 - 1509` → +12127881500–+12127881509 (10 numbers)" in text
    assert "`+12127881520` →" not in text  # written as read: nothing to explain


@pytest.mark.parametrize(("typed", "meant"), [("uplaod", "upload"), ("submti", "submit"), ("stauts", "status"),
                                              ("lead", "leads")])
def test_unknown_command_gets_did_you_mean(acme, typed, meant):
    reply = acme.say(f"{typed} roma-cc")
    assert f"Did you mean `{meant}`?" in reply.markdown and "I can do:" in reply.markdown


def test_unknown_command_without_a_close_match_gets_the_list(acme):
    reply = acme.say("frobnicate")
    assert "Did you mean" not in reply.markdown and "I can do:" in reply.markdown


def test_one_number_is_singular_everywhere(acme):
    reply = acme.say(f"{ROMA} +390212345600")
    assert "(1 entry read)" in reply.markdown and "**1** valid number\n" in reply.markdown
    assert "stores the 1 valid number;" in reply.markdown
    assert "**1** number stored" in acme.say("submit").markdown
    assert "#1 submitted: 1 number," in acme.say("status roma-cc").markdown


def test_large_counts_have_thousands_separators(acme):
    reply = acme.say(f"{BAGELS} +12127880000-9999, +12127890000-1999")
    assert "**12,000** valid numbers" in reply.markdown and "(12,000 numbers)" not in reply.markdown
    assert "(10,000 numbers)" in reply.markdown and "(2 entries read)" in reply.markdown
    acme.say("submit")
    assert "- Numbers: 12,000 (pending 12,000" in acme.say("status bagels-cc").markdown
    assert "**Numbers matching `+1212788`**: 10,000" in acme.say("numbers +1212788").markdown


def test_leads_matches_words_not_any_substring(acme):
    text = acme.say("leads roma").markdown
    assert "Pizzeria Roma" in text and "Fromagerie" not in text and "(2 services)" in text
    assert "(1 service)" in acme.say("leads fromagerie").markdown
    assert "roma-cc" in acme.say("leads roma-cc").markdown


def test_a_range_already_uploaded_is_one_line(acme):
    acme.say(f"{ROMA} +390212345600-699")
    acme.say("submit")
    reply = acme.say(f"{ROMA} +390212345600-699")
    text = reply.markdown
    assert "- row 1 `+390212345600–+390212345699`: 100 numbers already uploaded to this service" in text
    assert "more:" not in text and not reply.files


def import_file(chat, name, data):
    return chat.say("import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center", files=[(name, data)])


@pytest.mark.parametrize(("data", "used"), [
    (b"Name,Phone Number\nMario,+390212345600\n", "Numbers read from column B (`Phone Number`)."),
    (b"DID\n+390212345600\n", "Numbers read from column A (`DID`)."),
    (b"E.164;Notes\n+390212345600;x\n", "Numbers read from column A (`E.164`)."),
    (b"+390212345600\n+390212345601\n", "Numbers read from column A (no header row: every row is a number)."),
])
def test_import_reads_common_headers_and_says_which_column(acme, data, used):
    reply = import_file(acme, "numbers.csv", data)
    assert used in reply.markdown and "valid number" in reply.markdown and "invalid" not in reply.markdown


def test_a_quoted_value_across_lines_keeps_the_entries(acme):
    reply = acme.say('upload roma-cc profile=CC-Default sip=PSTN-Milan type=service info="Fax\nIVR" +390212345600')
    assert "**1** valid number" in reply.markdown and "(1 entry read)" in reply.markdown


def test_a_long_export_reports_progress(chat):
    told: list[str] = []
    chat.say("tenant Acme SP")
    chat.say(f"{ROMA} +390212300000-9999")
    chat.say("submit")
    quick = Settings(max_range=100_000, progress_after_seconds=0, progress_every=0)
    services = Services(db=chat.services.db, settings=quick)
    reply = dispatch(services, Request(email=ADMIN, room_id=f"room:{ADMIN}", text="numbers roma-cc",
                                       progress=told.append))
    assert reply.files and told and told[0] == "⏳ 0 of 10,000 numbers written to the export (0%)…"
