"""Progress reports (SPEC §4): none for quick work, then at most one per interval; on Webex one
message edited within Webex's limit of 10 edits."""
from __future__ import annotations

from bot.progress_message import MAX_EDITS, ProgressMessage
from provisioning.progress import Progress, describe


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_quick_work_shows_nothing_then_reports_are_spaced():
    clock, told = Clock(), []
    progress = Progress(told.append, after=3, every=5, clock=clock)
    for second, done in ((1, 10), (2.9, 20), (3, 30), (4, 40), (8, 80), (9, 90)):
        clock.now = second
        progress.tick("checked", done, 100, "number")
    assert told == ["⏳ 30 of 100 numbers checked (30%)…", "⏳ 80 of 100 numbers checked (80%)…"]


def test_describe_counts_with_separators_and_without_a_total():
    assert describe("checked", 1_000_000, 1_000_001, "number") == "⏳ 1,000,000 of 1,000,001 numbers checked (99%)…"
    assert describe("read", 1, None) == "⏳ 1 row read…"


class Recorder:
    """Stands in for WebexClient: records posts and edits."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def post_message(self, room_id, *, markdown=None, parent_id=None, **_):
        self.calls.append(("post", room_id, markdown, parent_id))
        return {"id": "M1"}

    def edit_message(self, room_id, message_id, markdown):
        self.calls.append(("edit", room_id, message_id, markdown))
        return {"id": message_id}


def test_progress_message_is_posted_once_then_edited_within_the_limit():
    webex = Recorder()
    progress = ProgressMessage(webex, "ROOM", "PARENT")
    for n in range(30):
        progress(f"⏳ {n}")
    progress.finish()
    posts = [c for c in webex.calls if c[0] == "post"]
    edits = [c for c in webex.calls if c[0] == "edit"]
    assert posts == [("post", "ROOM", "⏳ 0", "PARENT")]
    assert len(edits) == MAX_EDITS == 10 and all(c[1:3] == ("ROOM", "M1") for c in edits)
    assert edits[-1][3] == "✅ Done: the answer follows."


def test_no_progress_shown_means_no_done_edit():
    webex = Recorder()
    ProgressMessage(webex, "ROOM").finish()
    assert webex.calls == []


def test_a_failing_progress_message_never_fails_the_command():
    class Broken(Recorder):
        def post_message(self, *args, **kwargs):
            raise OSError("Webex is down")

    webex = Broken()
    progress = ProgressMessage(webex, "ROOM")
    progress("⏳ 1")
    progress("⏳ 2")
    progress.finish()
    assert webex.calls == []
