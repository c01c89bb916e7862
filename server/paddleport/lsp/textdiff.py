"""Small edits between a file and its conversion, fast on files where most lines change.

``paddleport.rewrite.edits.minimal_edits`` aligns lines with difflib, which is
quadratic when hundreds of lines differ (a whole-file conversion): ~200 ms for
1,000 dense lines. Here lines that occur once in both texts anchor the
alignment (patience diff); between anchors, lines pair up one to one when the
counts match, and only the rare uneven gaps go to difflib. The result is exact
(applying the edits gives ``new``) and about as small.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter

from paddleport.rewrite.edits import TextEdit, minimal_edits

_SMALL_GAP = 200  # lines: uneven gaps up to this size are aligned by difflib


def fast_edits(old: str, new: str) -> list[TextEdit]:
    if old == new:
        return []
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    offsets = [0]
    for line in a:
        offsets.append(offsets[-1] + len(line))
    edits: list[TextEdit] = []
    for (i1, i2), (j1, j2) in _gaps(a, b):
        old_chunk = "".join(a[i1:i2])
        new_chunk = "".join(b[j1:j2])
        if i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                if a[i1 + k] != b[j1 + k]:
                    edits.extend(_char_edits(a[i1 + k], b[j1 + k], offsets[i1 + k]))
        elif max(i2 - i1, j2 - j1) <= _SMALL_GAP:
            edits.extend(minimal_edits(old_chunk, new_chunk, base=offsets[i1]))
        else:
            edits.append(TextEdit(offsets[i1], offsets[i2], new_chunk))
    return edits


def _gaps(a: list[str], b: list[str]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Unequal stretches between anchors (unique lines matched in order), as line ranges."""
    count_a = Counter(a)
    count_b = Counter(b)
    where_b = {line: j for j, line in enumerate(b) if count_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(a) if count_a[line] == 1 and line in where_b]
    anchors = _longest_increasing(pairs)
    out = []
    prev_i = prev_j = 0
    for i, j in [*anchors, (len(a), len(b))]:
        # extend equal lines forwards from the previous anchor and backwards from this one
        while prev_i < i and prev_j < j and a[prev_i] == b[prev_j]:
            prev_i += 1
            prev_j += 1
        end_i, end_j = i, j
        while end_i > prev_i and end_j > prev_j and a[end_i - 1] == b[end_j - 1]:
            end_i -= 1
            end_j -= 1
        if prev_i < end_i or prev_j < end_j:
            out.append(((prev_i, end_i), (prev_j, end_j)))
        prev_i, prev_j = i + 1, j + 1
    return out


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest run of pairs increasing in both coordinates (pairs are sorted by the first)."""
    tails: list[int] = []  # smallest second coordinate ending a run of each length
    tail_index: list[int] = []
    back = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        pos = bisect.bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_index.append(k)
        else:
            tails[pos] = j
            tail_index[pos] = k
        back[k] = tail_index[pos - 1] if pos else -1
    run = []
    k = tail_index[-1] if tail_index else -1
    while k != -1:
        run.append(pairs[k])
        k = back[k]
    return run[::-1]


def _char_edits(old: str, new: str, base: int) -> list[TextEdit]:
    """Edits inside one line; runs separated by one or two unchanged characters merge."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    merged: list[TextEdit] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edit = TextEdit(base + i1, base + i2, new[j1:j2])
        if merged and edit.start - merged[-1].end <= 2:
            prev = merged.pop()
            gap = old[prev.end - base : edit.start - base]
            edit = TextEdit(prev.start, edit.end, prev.text + gap + edit.text)
        merged.append(edit)
    return merged
