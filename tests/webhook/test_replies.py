"""Splitting long Markdown for Webex, and the Adaptive Cards built from neutral descriptions."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import cards
from bot.replies import MAX_MESSAGE_BYTES, split_markdown


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def test_short_markdown_is_one_message():
    assert split_markdown("**hello**\nworld") == ["**hello**\nworld"]
    assert split_markdown("") == []


def test_long_markdown_is_split_at_line_boundaries():
    lines = [f"- number +3902{n:08d} is valid" for n in range(1000)]
    chunks = split_markdown("\n".join(lines))
    assert len(chunks) > 1
    assert all(size(c) <= MAX_MESSAGE_BYTES for c in chunks)
    assert "\n".join(chunks).split("\n") == lines


def test_a_split_table_repeats_its_header():
    header = ["| Service | Status |", "|---|---|"]
    rows = [f"| service-{n:04d} | Ready |" for n in range(800)]
    chunks = split_markdown("\n".join(["**Leads**", *header, *rows]))
    assert len(chunks) > 1
    for chunk in chunks[1:]:
        assert chunk.split("\n")[:2] == header
    body_rows = [line for c in chunks for line in c.split("\n") if line.startswith("| service-")]
    assert body_rows == rows


def test_a_split_code_block_is_closed_and_reopened():
    chunks = split_markdown("```\n" + "\n".join(f"+3902{n:08d}" for n in range(1500)) + "\n```")
    assert len(chunks) > 1
    assert all(c.startswith("```") and c.endswith("```") for c in chunks)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="|`"),
                        max_size=3000), max_size=12))
def test_every_chunk_fits_and_no_text_is_lost(lines):
    chunks = split_markdown("\n".join(lines))
    assert all(size(c) <= MAX_MESSAGE_BYTES for c in chunks)
    assert "".join("".join(c.split()) for c in chunks) == "".join("".join(line.split()) for line in lines)


FORM = {"kind": "upload-form", "service": "roma-cc", "calling_profiles": ["CC-Default", "CC-Premium"],
        "sip_connections": ["PSTN-Milan"], "number_types": ["contact-center", "service", "user"], "user_cac": 2}


def inputs_of(card: dict) -> dict[str, dict]:
    return {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}


def test_upload_form_card():
    attachment = cards.attachment(FORM)
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.3")
    found = inputs_of(card)
    assert list(found) == list(cards.INPUT_IDS)
    assert [c["value"] for c in found["profile"]["choices"]] == ["CC-Default", "CC-Premium"]
    assert [c["value"] for c in found["sip"]["choices"]] == ["PSTN-Milan"]
    assert [c["value"] for c in found["type"]["choices"]] == ["contact-center", "service", "user"]
    assert found["cac"]["type"] == "Input.Number" and "min" not in found["cac"]  # empty would read as NaN < min
    assert all(found[i]["isMultiSelect"] is False for i in ("profile", "sip", "type", "entry_mode"))
    assert all(element.get("label") for element in found.values())
    assert found["sip"]["errorMessage"] == "Choose a SIP connection."
    assert found["info"]["maxLength"] == 255
    assert [c["value"] for c in found["entry_mode"]["choices"]] == ["single", "range"]
    assert card["actions"] == [{"type": "Action.Submit", "title": "Preview",
                                "data": {"action": "upload", "service": "roma-cc"}}]


def test_preview_card_has_submit_and_cancel_buttons():
    card = cards.render({"kind": "preview", "upload_id": 42, "service": "roma-cc"})
    assert card["version"] == "1.3"
    assert [(a["title"], a["data"]) for a in card["actions"]] == [
        ("Submit", {"action": "submit", "upload_id": 42}),
        ("Cancel", {"action": "cancel", "upload_id": 42}),
    ]
    assert "submit 42" in cards.fallback_text({"kind": "preview", "upload_id": 42})
