"""Text for operators: quoting what people wrote, and fitting lists into one Webex message."""
from __future__ import annotations

from collections.abc import Sequence

MAX_MESSAGE_BYTES = 7439  # Webex's limit for one message's text or markdown, before encryption
NAME_LIMIT = 200  # inventory names are at most this long (inventory.schema.NAME_MAX)

# What `literal` changes so that a code span can hold anything. Renderers do not agree on how a
# backtick can be escaped inside code (CommonMark's longer fences are not universal), so it is
# replaced by a look-alike; line breaks would end the span (a blank line ends the paragraph),
# so they show as ⏎; a zero-width space after `<` keeps `<@all>` from ever being read as a
# mention, and after `:` of `://` keeps a client from turning a URL into a link.
_LINE_BREAKS = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LITERAL = str.maketrans({
    "`": "\u02cb",  # MODIFIER LETTER GRAVE ACCENT
    "\t": " ",
    **{char: "\u23ce" for char in _LINE_BREAKS},  # RETURN SYMBOL
    **{chr(code): "\ufffd" for code in (*range(0x00, 0x09), *range(0x0e, 0x1c), 0x1f, 0x7f)},
    "<": "<\u200b",
})
_NO_LINK = ("://", ":\u200b//")


def shown(text: str, limit: int = 60) -> str:
    """Text cut so that any reply fits one chat message (not Markdown-safe: see `literal`)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def literal(text: str, limit: int = 60) -> str:
    """Anything a person wrote (a command, a name, an option value, a file name, a cell), as a
    Markdown code span that shows it literally: it can never become a link, a mention, a
    heading or emphasis, nor break out of the span. Cut to `limit` characters first.
    """
    if not text:
        return "(empty)"
    return f"`{shown(text, limit).translate(_LITERAL).replace(*_NO_LINK)}`"


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


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """`count` with thousands separators and the noun agreeing: `1 number`, `1,000,000 numbers`."""
    noun = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {noun}"
