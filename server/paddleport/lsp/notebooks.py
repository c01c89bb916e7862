"""A notebook's Python cells as one text, so an import in one cell resolves uses in the next.

Cells are joined with a marker comment line; IPython magics (``%``/``!`` lines)
are masked as comments of the same length so offsets stay the same and the
text parses. Converted text splits back on the marker into per-cell texts.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from paddleport.analysis.source import split_lines_keepends

SEPARATOR = "\n# %% paddleport cell boundary\n"


@dataclass(frozen=True)
class CellSpan:
    uri: str
    start: int  # offsets of the cell's text in the joined text
    end: int


@dataclass(frozen=True)
class JoinedCells:
    text: str
    cells: tuple[CellSpan, ...]

    def cell_at(self, start: int, end: int) -> int | None:
        """Index of the cell holding ``[start, end)``, or None when it crosses a boundary."""
        i = bisect.bisect_right([c.start for c in self.cells], start) - 1
        if i < 0 or end > self.cells[i].end:
            return None
        return i

    def index_of(self, uri: str) -> int | None:
        for i, cell in enumerate(self.cells):
            if cell.uri == uri:
                return i
        return None


def mask_magics(text: str) -> str:
    """Turn IPython magic and shell lines into comments of the same length."""
    if "%" not in text and "!" not in text:
        return text
    lines = split_lines_keepends(text)
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = len(line) - len(stripped)
            lines[i] = line[:indent] + "#" + stripped[1:]
    return "".join(lines)


def join_cells(cells: list[tuple[str, str]]) -> JoinedCells:
    """``cells`` as (uri, text) pairs in notebook order."""
    parts: list[str] = []
    spans: list[CellSpan] = []
    pos = 0
    for i, (uri, text) in enumerate(cells):
        if i:
            parts.append(SEPARATOR)
            pos += len(SEPARATOR)
        masked = mask_magics(text)
        parts.append(masked)
        spans.append(CellSpan(uri, pos, pos + len(masked)))
        pos += len(masked)
    return JoinedCells("".join(parts), tuple(spans))


def split_cells(text: str, count: int) -> list[str] | None:
    """Per-cell texts of a converted joined text; None if the markers did not survive."""
    parts = text.split(SEPARATOR)
    return parts if len(parts) == count else None
