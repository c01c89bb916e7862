"""Map lines of the converted text back to the user's original file.

Most rewrites keep line numbers; the import fix-up can add ``import paddle``
or delete a torch import line, shifting everything below. A line diff gives
the exact mapping for unchanged lines and the nearest original line for
changed ones.
"""

from __future__ import annotations

import difflib

from paddleport.analysis.source import split_lines


def line_map(original: str, converted: str) -> list[int]:
    """``result[i]`` is the 1-based original line of converted line ``i + 1``."""
    old, new = split_lines(original), split_lines(converted)
    if len(old) == len(new):
        return list(range(1, len(new) + 1))
    out = [0] * len(new)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for k, j in enumerate(range(j1, j2)):
            if tag == "equal":
                out[j] = i1 + k + 1
            else:  # changed or inserted: the matching original line or the one there
                out[j] = min(i1 + k, max(i2 - 1, i1), len(old) - 1) + 1
    return out


def original_line(mapping: list[int], converted_line: int) -> int:
    if 1 <= converted_line <= len(mapping):
        return mapping[converted_line - 1]
    return converted_line
