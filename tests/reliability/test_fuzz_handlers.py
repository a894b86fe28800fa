"""Random command lines, card inputs and attachments through `dispatch`, on SQLite and PostgreSQL.

Whatever arrives, the bot answers with non-empty Markdown that fits one Webex message, never
with the apology for an unexpected exception, and the store changes only the way the reply says:
numbers only when a submit says they were stored, uploads only when a preview was shown.
"""
from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from handlers import REGISTRY
from provisioning.files.templates import template_xlsx
from tests.reliability.conftest import check_reply, snapshot
from tests.support.chat import ADMIN, OPERATOR

COMMANDS = sorted(REGISTRY.commands)
SERVICES = ["roma-cc", "roma", "roma-cx", "bagels-cc", "lyon-cc", "thames-cc", "r", "%", "_", "ROMA-CC"]
OPTION_VALUES = {
    "profile": ["CC-Default", "CC-Premium", "cc", "Nope"],
    "sip": ["PSTN-Milan", "PSTN-NewYork", "PSTN", "PSTN-London"],
    "type": ["user", "service", "contact-center", "USER", "fax"],
    "cac": ["2", "3", "10", "1", "-5", "99999999999999999999", "２", "1e3"],
    "info": ["Agents floor 2", "x" * 300, "", "é" * 255],
}
HOSTILE = [
    "'; DROP TABLE numbers; --", "\" OR 1=1 --", "%", "_", "%_%", "\\", "\\\\%", "\x00", "a\x00b",
    "+390212345678\x00", "\uff0b390212345678", "+３９０２１２３４５６７８", "+٣٩٠٢١٢٣٤٥٦٧٨", "\u200b+390212345678",
    "+39 02 1234 5678", "+39-02-1234-5678", "390212345678", "1.21278815E+10", "=+390212345678",
    "+12127881500-1599", "+390212345600-699", "+390212345600 - 5699", "+39021234560-+39021234569",
    "+390212345600-+390312345600", "+1" + "9" * 20, "+", "-", "--", "#3", "0", "１２", "\ud7ff", "\U0001f4de",
    "x" * 10_000, "+39" + "0" * 10_000,
]
NUMBERS = st.one_of(
    st.integers(0, 9999).map(lambda n: f"+3902123{n:05d}"),
    st.integers(0, 999).map(lambda n: f"+3902123{n:05d}-{(n + 3 + n % 40) % 100:02d}"),
    st.integers(1500, 1599).map(lambda n: f"+1212788{n}"),
    st.sampled_from(HOSTILE),
)


WORD = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=30),
    st.text(alphabet="\"'\\ =+-%_;,\t\n", min_size=1, max_size=8),
)


@st.composite
def option(draw) -> str:
    key = draw(st.sampled_from([*OPTION_VALUES, "file", "source", "bogus", "PROFILE"]))
    values = OPTION_VALUES.get(key.lower(), [])
    value = draw(st.one_of(st.sampled_from(values), st.sampled_from(HOSTILE), WORD) if values else WORD)
    return f"{key}={value}"


def quoted(word: str, style: int) -> str:
    if style == 1:
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == 2 and "'" not in word:
        return f"'{word}'"
    if style == 3:
        return word + '"'  # an unbalanced quote (one style in ten)
    return word


@st.composite
def command_line(draw) -> str:
    first = draw(st.one_of(st.sampled_from(COMMANDS), st.sampled_from([c.upper() for c in COMMANDS]), WORD))
    words = [first]
    if draw(st.booleans()):
        words.append(draw(st.one_of(st.sampled_from(SERVICES), st.sampled_from(HOSTILE), WORD)))
    parts = draw(st.lists(st.one_of(option(), NUMBERS, WORD), max_size=8))
    words += parts
    styles = draw(st.lists(st.integers(0, 9), min_size=len(words), max_size=len(words)))
    return " ".join(quoted(word, style) for word, style in zip(words, styles))


@st.composite
def upload_line(draw) -> str:
    """An upload whose options are right, so that random entries reach validation and the preview."""
    prefix = draw(st.sampled_from([
        "upload roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center",
        "upload bagels-cc profile=CC-Default sip=PSTN-NewYork type=user",
        "upload roma-cx profile=CC-Premium sip=PSTN-Milan type=contact-center",
    ]))
    extra = draw(st.lists(st.sampled_from(['cac=5', 'info="Agents floor 2"', "info=" + "i" * 255]), max_size=2,
                          unique=True))
    entries = draw(st.lists(st.one_of(NUMBERS, WORD), min_size=1, max_size=8))
    return " ".join([prefix, *extra, *entries])


LINE = st.one_of(command_line(), upload_line(), st.sampled_from(["submit", "cancel", "submit 1", "cancel #2"]),
                 st.text(max_size=200))


def workbook(cells: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in cells:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row])  # openpyxl can't write those
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CELL = st.one_of(NUMBERS, WORD.map(lambda w: w[:60]), st.just(""))
HEADER = st.sampled_from([["Number", "Range End"], ["number"], ["NUMBER", "range_end", "Info"], ["Phone"], []])
TEMPLATE = template_xlsx()


@st.composite
def csv_file(draw) -> tuple[str, bytes]:
    header = draw(HEADER)
    rows = draw(st.lists(st.lists(CELL, max_size=3), max_size=12))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    text = "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return "numbers.csv", text.encode(encoding, errors="replace")


@st.composite
def xlsx_file(draw) -> tuple[str, bytes]:
    header = draw(HEADER)
    rows = draw(st.lists(st.lists(CELL, max_size=3), max_size=8))
    data = workbook([header, *rows]) if draw(st.booleans()) else TEMPLATE
    if draw(st.booleans()):
        data = data[:int(len(data) * draw(st.floats(0, 1, exclude_max=True)))]  # truncated in transit
    return draw(st.sampled_from(["numbers.xlsx", "numbers.csv", "n"])), data


ATTACHMENT = st.one_of(
    st.binary(max_size=2000).map(lambda data: ("random.bin", data)),
    csv_file(),
    xlsx_file(),
)
CARD = st.fixed_dictionaries(
    {"action": st.sampled_from(["upload", "submit", "cancel", "frobnicate", ""])},
    optional={
        "service": st.sampled_from(SERVICES), "profile": st.sampled_from(OPTION_VALUES["profile"]),
        "sip": st.sampled_from(OPTION_VALUES["sip"]), "type": st.sampled_from(OPTION_VALUES["type"]),
        "cac": st.sampled_from(OPTION_VALUES["cac"]), "info": WORD, "number": NUMBERS,
        "range_end": st.one_of(st.sampled_from(["5699", "19", ""]), WORD),
        "entry_mode": st.sampled_from(["range", "single"]),
        "upload_id": st.one_of(st.integers(-5, 10).map(str), WORD, st.integers(0, 2**70)),
    },
)
STORED = re.compile(r"\*\*(\d+)\*\* numbers? stored for")


def check_store(chat, before, reply) -> None:
    """The store changed only as the reply says."""
    after = snapshot(chat.services.db)
    stored = STORED.search(reply.markdown)
    if stored:
        added = after.numbers - before.numbers
        assert after.numbers >= before.numbers and len(added) == int(stored.group(1))
    else:
        assert after.numbers == before.numbers, reply.markdown
    if "Preview #" not in reply.markdown:
        assert after.uploads == before.uploads, reply.markdown
        # submit and cancel write a preview's already-uploaded staged numbers into its report
        # (provisioning/uploads/already.py): the report grows by at most what staging lost
        assert after.staged <= before.staged, reply.markdown
        assert before.invalid <= after.invalid <= before.invalid + before.staged - after.staged, reply.markdown


def examples(chat, default: int) -> int:
    """PostgreSQL round trips cost more: fewer examples there keep the whole file fast."""
    return default // 2 if chat.services.db.is_postgres else default


def test_random_command_lines(chat):
    @settings(max_examples=examples(chat, 160), deadline=None, suppress_health_check=list(HealthCheck))
    @given(line=LINE, who=st.sampled_from([ADMIN, ADMIN, OPERATOR]), then=st.sampled_from(["", "submit", "cancel"]))
    def run(line, who, then):
        for text in (line, then) if then else (line,):
            before = snapshot(chat.services.db)
            reply = chat.say(text, as_=who)
            check_reply(reply)
            check_store(chat, before, reply)
        if "tenant" in line.lower():  # back to the tenant the other examples are written for
            chat.say("tenant Acme SP", as_=ADMIN)

    run()


def test_random_attachments(chat):
    @settings(max_examples=examples(chat, 100), deadline=None, suppress_health_check=list(HealthCheck))
    @given(line=st.one_of(st.just("import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"),
                          st.just("import bagels-cc profile=CC-Default sip=PSTN-NewYork type=user"),
                          command_line()),
           attachment=ATTACHMENT)
    def run(line, attachment):
        before = snapshot(chat.services.db)
        reply = chat.say(line, files=(attachment,))
        check_reply(reply)
        check_store(chat, before, reply)
        for file in reply.files:
            assert file.data, file.name

    run()


def test_random_card_submissions(chat):
    @settings(max_examples=examples(chat, 80), deadline=None, suppress_health_check=list(HealthCheck))
    @given(card=CARD, then_submit=st.booleans())
    def run(card, then_submit):
        before = snapshot(chat.services.db)
        reply = chat.say("", card=card)
        check_reply(reply)
        check_store(chat, before, reply)
        if then_submit:
            before = snapshot(chat.services.db)
            reply = chat.say("submit")
            check_reply(reply)
            check_store(chat, before, reply)

    run()
