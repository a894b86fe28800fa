"""Text for operators: quoting what they wrote, and fitting lists into one Webex message."""
from __future__ import annotations

from collections.abc import Sequence

MAX_MESSAGE_BYTES = 7439  # Webex's limit for one message's text or markdown, before encryption


def shown(text: str, limit: int = 60) -> str:
    """Operator input quoted back in a message, cut so that any reply fits one chat message."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def shown_list(items: list[str], budget: int = 1500) -> str:
    """Items joined with commas, as many as fit in `budget` bytes, then how many were left out.

    Inventory names run to 200 characters and a tenant may have hundreds of them.
    """
    kept = items[:how_many_fit(items, budget, separator_bytes=2)]
    more = f" and {len(items) - len(kept)} more" if len(kept) < len(items) else ""
    return (", ".join(kept) + more) if items else "none"


def how_many_fit(items: Sequence[str], budget: int, *, separator_bytes: int) -> int:
    """How many leading `items` fit in `budget` bytes of UTF-8, each followed by a separator."""
    used = 0
    for count, item in enumerate(items):
        used += len(item.encode()) + separator_bytes
        if used > budget:
            return count
    return len(items)
