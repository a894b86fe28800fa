"""What a reply's Markdown renders to, read with a real CommonMark parser (markdown-it-py, with
GitHub's tables and link detection like chat clients), to prove that text a person wrote stays text."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark", {"linkify": True, "html": True}).enable(["linkify", "table", "strikethrough"])
FORBIDDEN = {  # what text from a person must never turn into
    "link_open": "a link", "image": "an image", "heading_open": "a heading", "html_inline": "HTML",
    "html_block": "HTML", "hr": "a rule", "fence": "a code block", "code_block": "a code block",
}


def _tokens(tokens: Iterable[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        if token.children:
            yield from _tokens(token.children)


def outside_code(markdown: str) -> str:
    """The text a reader sees outside code spans (what a renderer could still interpret)."""
    return "".join(t.content for t in _tokens(_PARSER.parse(markdown)) if t.type == "text")


def assert_literal(markdown: str, markers: Iterable[str]) -> None:
    """No link, mention, heading or HTML anywhere, and none of `markers` (pieces of what a person
    wrote) outside a code span."""
    tokens = list(_tokens(_PARSER.parse(markdown)))
    made = [FORBIDDEN[t.type] for t in tokens if t.type in FORBIDDEN]
    assert not made, f"the reply renders {made}: {markdown!r}"
    plain = "".join(t.content for t in tokens if t.type == "text")
    for marker in [*markers, "<@"]:
        assert marker not in plain, f"{marker!r} is outside a code span in {markdown!r}"
    for code in (t.content for t in tokens if t.type == "code_inline"):
        assert "<@" not in code, f"a mention inside code may still notify: {markdown!r}"
