"""Source text with fast conversions between ast positions and string offsets.

``ast`` reports columns as UTF-8 byte offsets; everything downstream (edits,
the CLI, the language server) works in ``str`` offsets, so the conversion lives
in one place.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


def line_starts(text: str) -> list[int]:
    """Offsets where each line begins (lines end at ``\n``)."""
    starts = [0]
    find = text.find
    pos = find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = find("\n", pos + 1)
    return starts


@dataclass
class SourceText:
    text: str
    line_starts: list[int] = field(init=False)
    _ascii: list[bool] = field(init=False)

    def __post_init__(self) -> None:
        self.line_starts = line_starts(self.text)
        self._ascii = [] if self.text.isascii() else [line.isascii() for line in self.lines()]

    def lines(self) -> list[str]:
        return self.text.split("\n")

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its newline."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] - 1 if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    def offset(self, line: int, byte_col: int) -> int:
        """String offset of an ast position (1-based line, UTF-8 byte column)."""
        start = self.line_starts[line - 1]
        if not self._ascii or self._ascii[line - 1]:
            return start + byte_col
        prefix = self.line_text(line).encode("utf-8")[:byte_col]
        return start + len(prefix.decode("utf-8", errors="ignore"))

    def position(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based character column) of a string offset."""
        line = bisect.bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1]

    def node_span(self, node: object) -> tuple[int, int]:
        """String offsets of an ast node's full extent."""
        n: object = node
        return (
            self.offset(n.lineno, n.col_offset),  # type: ignore[attr-defined]
            self.offset(n.end_lineno, n.end_col_offset),  # type: ignore[attr-defined]
        )
