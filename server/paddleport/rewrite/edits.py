"""Text edits in string offsets, and the minimal edits between two texts."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class TextEdit:
    start: int
    end: int
    text: str


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits (any order)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    out: list[str] = []
    pos = 0
    for edit in ordered:
        if edit.start < pos:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        out.append(text[pos : edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def minimal_edits(old: str, new: str, base: int = 0) -> list[TextEdit]:
    """The smallest set of edits that turns ``old`` into ``new``, by line then by character.

    Clients apply these without moving the cursor or folding regions that did
    not change, which a whole-document replacement would.
    """
    if old == new:
        return []
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    offsets = [0]
    for line in old_lines:
        offsets.append(offsets[-1] + len(line))
    edits: list[TextEdit] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        old_chunk = "".join(old_lines[i1:i2])
        new_chunk = "".join(new_lines[j1:j2])
        start = offsets[i1]
        if tag == "replace" and len(old_chunk) < 4000 and len(new_chunk) < 4000:
            edits.extend(_char_edits(old_chunk, new_chunk, base + start))
        else:
            edits.append(TextEdit(base + start, base + offsets[i2], new_chunk))
    return edits


def _char_edits(old: str, new: str, base: int) -> list[TextEdit]:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    edits: list[TextEdit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            edits.append(TextEdit(base + i1, base + i2, new[j1:j2]))
    return _merge_close(edits, old, base)


def _merge_close(edits: list[TextEdit], old: str, base: int) -> list[TextEdit]:
    """Join edits separated by one or two unchanged characters: fewer, more readable edits."""
    merged: list[TextEdit] = []
    for edit in edits:
        if merged and edit.start - merged[-1].end <= 2:
            prev = merged.pop()
            gap = old[prev.end - base : edit.start - base]
            merged.append(TextEdit(prev.start, edit.end, prev.text + gap + edit.text))
        else:
            merged.append(edit)
    return merged
