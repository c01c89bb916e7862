"""Parse an edited text again by parsing only the top-level statements the edit touched.

The language server parses the whole document on every keystroke; ``ast.parse`` is
a third of an analysis on a dense 1,000-line file. An edit usually lands inside one
top-level statement: the statements wholly before it are the same objects as last
time, those wholly after it too when the edit kept the line count, and only the
lines in between go through ``ast.parse`` (their line numbers shifted into place).

Top-level statements that start at column 0 and end at a line end are independent
for the parser: a sequence of complete statements, cut at line starts, parses the
same alone as inside the file. Whenever that is not sure (a statement sharing its
line, a region that does not parse alone, the one ``__future__`` import that could
change how a line parses, ``barry_as_FLUFL``), the whole text is parsed, so the result
is always what ``ast.parse(text)`` gives. The analysis never changes ``ast`` nodes, so
sharing them between trees is safe.
"""

from __future__ import annotations

import ast
import threading

from paddleport.analysis.source import common_prefix, line_starts

# The only ``__future__`` feature that is about syntax (``<>``); ``annotations`` and the rest
# change what the compiler makes of a tree, never the tree ``ast.parse`` gives.
FUTURE_SYNTAX = "barry_as_FLUFL"

# Below this many characters a full parse costs less than the bookkeeping.
_MIN_CHARS = 4_000


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, min(len(a), len(b), limit)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _first_line(stmt: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno, *(d.lineno for d in decorators)])


def reparse(old_text: str, old_tree: ast.Module, text: str) -> ast.Module:
    """``ast.parse(text)``, reusing the statements of ``old_tree`` (the parse of ``old_text``) that
    the edit from ``old_text`` to ``text`` left alone. Raises what ``ast.parse`` raises."""
    body = old_tree.body
    if (len(text) < _MIN_CHARS or not body or FUTURE_SYNTAX in text
            or any(s.col_offset != 0 for s in body)):  # fmt: skip
        return ast.parse(text)
    prefix = common_prefix(old_text, text)
    suffix = _common_suffix(old_text, text, min(len(old_text), len(text)) - prefix)
    old_starts = line_starts(old_text)
    n_lines = len(old_starts)

    def line_offset(line: int) -> int:  # start of 1-based ``line`` in old_text; past the end: its length
        return old_starts[line - 1] if line <= n_lines else len(old_text)

    # statements wholly before the edit, their last line's break included
    keep_head = 0
    while keep_head < len(body):
        end_line = body[keep_head].end_lineno or body[keep_head].lineno
        if end_line >= n_lines or line_offset(end_line + 1) > prefix:
            break
        keep_head += 1
    # statements wholly after it, the line break before their first line included
    keep_tail = len(body)
    tail_start = len(old_text) - suffix
    while keep_tail > keep_head and line_offset(_first_line(body[keep_tail - 1])) > tail_start:
        keep_tail -= 1
    region_start = old_starts[body[keep_head - 1].end_lineno or 0] if keep_head else 0
    old_region_end = line_offset(_first_line(body[keep_tail])) if keep_tail < len(body) else len(old_text)
    new_region_end = old_region_end + len(text) - len(old_text)
    region = text[region_start:new_region_end]
    first_line = old_text.count("\n", 0, region_start) + 1 if "\r" not in old_text else None
    if first_line is None or "\r" in region:
        return ast.parse(text)
    old_region_lines = old_text.count("\n", region_start, old_region_end)
    if region.count("\n") != old_region_lines and keep_tail < len(body):
        # the line count changed: the statements after the edit would need new line numbers
        region = text[region_start:]
        keep_tail = len(body)
    try:
        # blank lines in front put the statements on their lines: cheaper than ast.increment_lineno
        part = ast.parse("\n" * (first_line - 1) + region)
    except (SyntaxError, ValueError):
        return ast.parse(text)  # the error (or its absence) as the whole text has it
    return ast.Module(body=[*body[:keep_head], *part.body, *body[keep_tail:]], type_ignores=[])


class ParseCache:
    """The last text parsed and its tree: one slot, for the document being edited.

    One slot bounds memory (a tree is several MB for a large file) and serves the
    common case, a run of edits to one document; another document just parses whole.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: tuple[str, ast.Module] | None = None

    def parse(self, text: str) -> ast.Module:
        with self._lock:
            last = self._last
        tree = ast.parse(text) if last is None else reparse(last[0], last[1], text)
        with self._lock:
            self._last = (text, tree)
        return tree

    def clear(self) -> None:
        with self._lock:
            self._last = None
