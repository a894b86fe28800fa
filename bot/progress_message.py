"""Progress on Webex (SPEC §4): one message, posted when a long command first reports progress
and edited (`PUT /messages/{id}`, the SDK's `messages.update`) as the work advances.

Webex lets the author edit a message at most 10 times, and never one carrying files or cards,
so the progress message is plain Markdown and its edits are counted: the last one is kept for
"done". Progress is a courtesy: a failure to post or edit it is logged, never fatal.
"""
from __future__ import annotations

import logging

from bot.retry import describe
from bot.webex_client import WebexClient

log = logging.getLogger(__name__)

MAX_EDITS = 10  # Webex's limit per message


class ProgressMessage:
    """The `Request.progress` sink of one command on Webex."""

    def __init__(self, webex: WebexClient, room_id: str, parent_id: str | None = None) -> None:
        self.webex = webex
        self.room_id = room_id
        self.parent_id = parent_id
        self.message_id: str | None = None
        self.edits = 0
        self.broken = False

    def __call__(self, markdown: str) -> None:
        if self.broken:
            return
        if self.message_id is None:
            self._try(self._post, markdown)
        elif self.edits < MAX_EDITS - 1:  # keep the last edit for `finish`
            self._try(self._edit, markdown)

    def finish(self, markdown: str = "✅ Done: the answer follows.") -> None:
        """The last edit, once the command's reply is ready; nothing when no progress was shown."""
        if self.message_id is not None and not self.broken and self.edits < MAX_EDITS:
            self._try(self._edit, markdown)

    def _post(self, markdown: str) -> None:
        self.message_id = self.webex.post_message(self.room_id, markdown=markdown, parent_id=self.parent_id)["id"]

    def _edit(self, markdown: str) -> None:
        self.edits += 1
        self.webex.edit_message(self.room_id, self.message_id, markdown)

    def _try(self, step, markdown: str) -> None:
        try:
            step(markdown)
        except Exception as exc:
            self.broken = True
            log.warning("progress message not updated: %s", describe(exc))
