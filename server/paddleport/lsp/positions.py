"""String offsets ↔ LSP positions in the negotiated encoding (UTF-16 unless offered better).

Everything in paddleport works in ``str`` offsets (code points); LSP counts
columns in UTF-16 code units by default. Lines that are pure ASCII (nearly all
of them) convert with no work at all.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from lsprotocol import types

from paddleport.analysis.source import line_end, line_starts

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _units(text: str, encoding: str) -> int:
    """Length of ``text`` in the encoding's code units."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", errors="surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


@dataclass
class PositionMap:
    """Converts between offsets in ``text`` and LSP positions; lines end at ``\\r\\n``, ``\\r`` or ``\\n``."""

    text: str
    encoding: str = UTF16
    line_starts: list[int] = field(init=False)
    _ascii: bool = field(init=False)
    _wide: frozenset[int] = field(init=False)  # lines whose characters are not all one unit each

    def __post_init__(self) -> None:
        self.line_starts = line_starts(self.text)
        self._ascii = self.text.isascii() or self.encoding == UTF32
        # one "é" in a docstring must not make every line's columns slow: only its line counts units
        starts = self.line_starts
        self._wide = frozenset() if self._ascii else frozenset(
            bisect.bisect_right(starts, m.start()) - 1 for m in _NON_ASCII.finditer(self.text))  # fmt: skip

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_end(self, line: int) -> int:
        """Offset of the end of 0-based ``line``, before its line break."""
        return line_end(self.text, self.line_starts, line)

    def position(self, offset: int) -> types.Position:
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[line]
        if line not in self._wide:
            return types.Position(line=line, character=offset - start)
        return types.Position(line=line, character=_units(self.text[start:offset], self.encoding))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(end))

    def json_position(self, offset: int) -> dict[str, int]:
        """``position`` as the JSON object itself: diagnostics are built as plain data (fast)."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[line]
        if line not in self._wide:
            return {"line": line, "character": offset - start}
        return {"line": line, "character": _units(self.text[start:offset], self.encoding)}

    def line_char(self, offset: int) -> tuple[int, int]:
        """``json_position`` as a hashable (line, character) pair."""
        offset = min(max(offset, 0), len(self.text))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[line]
        if line not in self._wide:
            return line, offset - start
        return line, _units(self.text[start:offset], self.encoding)

    def line_chars(self, start: int, end: int) -> tuple[int, int, int, int]:
        """``line_char`` of ``start`` and of ``end`` at once (a diagnostic's memo key, per use)."""
        size = len(self.text)
        start = min(max(start, 0), size)
        end = min(max(end, 0), size)
        starts = self.line_starts
        line = bisect.bisect_right(starts, start) - 1
        end_line = bisect.bisect_right(starts, end, line if end >= start else 0) - 1
        wide = self._wide
        if line not in wide and end_line not in wide:
            return line, start - starts[line], end_line, end - starts[end_line]
        return (*self.line_char(start), *self.line_char(end))

    def json_range(self, start: int, end: int) -> dict[str, dict[str, int]]:
        return {"start": self.json_position(start), "end": self.json_position(end)}

    def offset(self, position: types.Position) -> int:
        """Offset of an LSP position; out-of-range lines and columns clamp to the text."""
        if position.line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[max(position.line, 0)]
        end = self.line_end(position.line)
        want = max(position.character, 0)
        if max(position.line, 0) not in self._wide:
            return min(start + want, end)
        count = 0
        for i in range(start, end):
            if count >= want:
                return i
            count += _units(self.text[i], self.encoding)
        return end
