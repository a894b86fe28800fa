"""The invalid-rows report written at report scale (`write_invalid_rows`) is byte for byte what
`csv_bytes` writes: the same safe cells, the same quoting of a row with a `;`."""
from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from provisioning.files.exports import invalid_rows_csv, write_invalid_rows

CELL = st.text(alphabet=st.sampled_from('+-=@\t\r\n;,"\' 0123456789abcé'), max_size=12)
ENTRIES = st.lists(st.tuples(st.integers(min_value=1, max_value=10**6), CELL, CELL), max_size=30)


def written(entries) -> bytes:
    out = io.BytesIO()
    write_invalid_rows(out, entries)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(ENTRIES)
def test_same_bytes_as_csv_bytes(entries):
    assert written(entries) == invalid_rows_csv(entries)


def test_same_bytes_over_many_chunks_with_repeated_reasons():
    entries = [(row, f"+3902{row:08d}" if row % 7 else f"=+3902;{row}", "already uploaded" if row % 3 else "a; b")
               for row in range(2, 25_002)]
    assert written(entries) == invalid_rows_csv(entries)
