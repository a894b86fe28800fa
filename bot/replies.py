"""Fit Markdown replies into Webex's per-message limit (7,439 bytes before encryption).

Splits happen at line boundaries; a table continued in the next message repeats its
header so each message still renders, and a fenced code block is closed and reopened.
"""
from __future__ import annotations

from provisioning.text import MAX_MESSAGE_BYTES


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut_line(line: str, limit: int) -> list[str]:
    """A single over-long line in pieces of at most `limit` bytes, never inside a character."""
    pieces, current, used = [], [], 0
    for char in line:
        width = _size(char)
        if used + width > limit and current:
            pieces.append("".join(current))
            current, used = [], 0
        current.append(char)
        used += width
    pieces.append("".join(current))
    return pieces


def split_markdown(markdown: str, limit: int = MAX_MESSAGE_BYTES) -> list[str]:
    """`markdown` as one or more messages of at most `limit` bytes each."""
    if _size(markdown) <= limit:
        return [markdown] if markdown else []
    budget = limit - 200  # room for a repeated table header or code fence
    chunks: list[str] = []
    lines: list[str] = []
    used = 0
    table_header: list[str] = []
    fence: str | None = None
    previous = ""

    def flush() -> None:
        nonlocal lines, used
        body = "\n".join(lines)
        if fence is not None:
            body += "\n```"
        if body.strip():
            chunks.append(body)
        lines, used = [], 0
        if fence is not None:
            lines.append(fence)
            used = _size(fence) + 1
        elif table_header:
            lines.extend(table_header)
            used = sum(_size(h) + 1 for h in table_header)

    for raw in markdown.split("\n"):
        stripped = raw.strip()
        if fence is None and stripped.startswith("|") and set(stripped) <= set("|-: ") and previous.startswith("|"):
            table_header = [previous, raw] if len(previous) + len(raw) < budget // 4 else []
        elif not stripped.startswith("|") and fence is None:
            table_header = []
        for piece in _cut_line(raw, budget // 2) if _size(raw) > budget // 2 else [raw]:
            if used + _size(piece) + 1 > budget and lines:
                flush()
            lines.append(piece)
            used += _size(piece) + 1
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped
        previous = stripped
    if lines and "\n".join(lines).strip() and lines != table_header:
        chunks.append("\n".join(lines))
    return chunks
