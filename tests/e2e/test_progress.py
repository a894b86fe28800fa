"""Progress of long work on Webex (SPEC §4): one message, posted, then edited as the import advances."""
from __future__ import annotations

from tests.support.live import ADMIN

IMPORT = "import roma-cc profile=CC-Default sip=PSTN-Milan type=contact-center"


def test_a_long_import_edits_one_progress_message_then_answers(make_live, fake_webex):
    live = make_live(progress_after_seconds=0, progress_every=0)
    room = fake_webex.add_room("Olga", "direct")
    data = b"Number,Range End\n+390212300000,+390212309999\n+390212310000,+390212319999\n+390212320000,9999\n"
    live.say(ADMIN, room, "tenant Acme SP")
    replies = live.say(ADMIN, room, IMPORT, files=[("numbers.csv", data, "text/csv")])
    progress, *answer = replies
    edits = fake_webex.state.messages[progress["id"]]["_edits"]
    assert edits[-1] == progress["markdown"] == "✅ Done: the answer follows."
    assert any("of 30,000 numbers checked" in edit for edit in [*edits, progress.get("text", "")])
    assert len(edits) <= 10 and not progress.get("files") and not progress.get("attachments")
    assert "**30,000** valid numbers" in answer[0]["markdown"]


def test_a_quick_command_shows_no_progress(live, fake_webex):
    room = fake_webex.add_room("Olga", "direct")
    replies = live.say(ADMIN, room, "help")
    assert all("⏳" not in (m.get("markdown") or "") for m in replies)
    assert all(not m.get("_edits") for m in fake_webex.state.messages.values())
