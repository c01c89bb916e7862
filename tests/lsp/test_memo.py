"""Memoised diagnostics: after any edit they equal a fresh analysis's, and their JSON texts say the same."""

from __future__ import annotations

import dataclasses
import json
import random

import pytest

from paddleport.catalog import make_planner
from paddleport.lsp.documents import DocumentView
from paddleport.lsp.positions import UTF8, UTF16, UTF32, PositionMap
from paddleport.lsp.settings import Settings
from paddleport.lsp.state import DocState, diagnose
from paddleport.rewrite.fixes import Planner

SOURCE = '''import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    """Ünïcode 😀 in a docstring moves UTF-16 and UTF-8 columns."""

    def __init__(self, dim: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, kernel_size=3, padding=1, bias=False)
        self.fc = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        name = "é"; t = x.flatten(2).transpose(1, 2) + torch.zeros(1)
        s = torch.sum(torch.tensor([len("é😀")]), dim=0)
        t = F.gelu(self.fc(t))
        y = torch.cat([t, t], dim=1)
        return torch.clamp(y.view(1, -1), -1.0, 1.0) + torch.zeros(1)
'''

INSERTS = ["x", " ", "é", "😀", "\n", "\n\n", "  # note", "torch.ones(2) + ", "(", ")"]


def _unmemoised(
    view: DocumentView, previous: DocState | None, planner: Planner, settings: Settings
) -> DocState:
    """What ``diagnose`` gives with nothing memoised (a syntax error still carries ``previous`` over)."""
    return diagnose(view, planner, settings, previous and dataclasses.replace(previous, memo=None))


def _check(state: DocState, fresh: DocState) -> None:
    assert state.diagnostics == fresh.diagnostics
    assert (state.counts, state.parsed) == (fresh.counts, fresh.parsed)
    for uri, diags in state.diagnostics.items():
        if uri in state.serialised:
            assert [json.loads(s) for s in state.serialised[uri]] == diags


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
def test_random_edits_match_a_fresh_analysis(encoding: str) -> None:
    planner, settings = make_planner(), Settings()
    rng = random.Random(7)
    text = SOURCE
    state = ref = diagnose(DocumentView("f", text, 0, encoding), planner, settings)
    for version in range(1, 80):
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.3:
            text = text[:at] + text[at + rng.randrange(1, 4) :]
        else:
            text = text[:at] + rng.choice(INSERTS) + text[at:]
        view = DocumentView("f", text, version, encoding)
        state, ref = diagnose(view, planner, settings, state), _unmemoised(view, ref, planner, settings)
        _check(state, ref)
        if not state.parsed and rng.random() < 0.5:
            text = SOURCE  # back to a text that parses, over the carried-over state
            view = DocumentView("f", text, version, encoding)
            state, ref = diagnose(view, planner, settings, state), _unmemoised(view, ref, planner, settings)
            _check(state, ref)


EDITS = [
    ("", "# é\n"),  # every line moves, the imports' diagnostics (no fix) too
    ('name = "é"', 'name = "😀"'),  # same code points, one more UTF-16 unit and two more UTF-8 bytes
    ('len("é😀")', 'len("😀😀")'),  # the same inside a span, before its `dim` → `axis` edit
    ("        super().__init__()\n", ""),  # a line goes
    ("torch.cat(", "torch.cat(\n"),  # a span grows a line
]


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
def test_edits_that_move_uses_match_a_fresh_analysis(encoding: str) -> None:
    planner, settings = make_planner(), Settings()
    text = SOURCE
    state = diagnose(DocumentView("f", text, 0, encoding), planner, settings)
    for version, (old, new) in enumerate(EDITS, start=1):
        assert old in text
        text = text.replace(old, new, 1) if old else new + text
        view = DocumentView("f", text, version, encoding)
        state = diagnose(view, planner, settings, state)
        assert state.parsed
        _check(state, diagnose(view, planner, settings))


def test_an_edit_within_a_line_reuses_every_other_diagnostic() -> None:
    planner, settings = make_planner(), Settings()
    before = diagnose(DocumentView("f", SOURCE, 1), planner, settings)
    edited = SOURCE.replace("dim: int = 8", "dim: int = 16")
    after = diagnose(DocumentView("f", edited, 2), planner, settings, before)
    assert len(after.diagnostics["f"]) == len(before.diagnostics["f"]) > 5
    # a fix that brings a generated class (a promotion's helper) is rebuilt: where the class goes
    # depends on the rest of the file; every other diagnostic is the same object
    pairs = list(zip(after.diagnostics["f"], before.diagnostics["f"], strict=True))
    plain = [(a, b) for a, b in pairs if "_paddleport_" not in json.dumps(b.get("data"))]
    assert len(plain) > 5 and all(a is b for a, b in plain)


def test_notebook_edits_match_a_fresh_analysis() -> None:
    planner, settings = make_planner(), Settings()
    cells: list[tuple[str, str, int | None]] = [
        ("c0", "import torch\nx = torch.zeros(2)", 1),
        ("c1", "y = torch.cat([x, x])\nz = x.view(1, -1)", 1),
    ]
    state = ref = diagnose(DocumentView.for_notebook("nb", 1, cells), planner, settings)
    for version, new in enumerate(
        [
            "# ä\ny = torch.cat([x, x])\nz = x.view(1, -1)",
            "y = torch.cat([x, x]); w = torch.ones(1)\nz = x.view(1, -1)",
            "y = torch.cat([x,\n x])\nz = x.view(1, -1)",
        ],
        start=2,
    ):
        view = DocumentView.for_notebook("nb", version, [cells[0], ("c1", new, version)])
        state, ref = diagnose(view, planner, settings, state), _unmemoised(view, ref, planner, settings)
        _check(state, ref)


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
@pytest.mark.parametrize("text", ["ab\ncd\r\n\nef", "é😀\nx😀y\n\nz", ""])
def test_line_chars_is_line_char_twice(text: str, encoding: str) -> None:
    positions = PositionMap(text, encoding)
    offsets = range(-2, len(text) + 3)
    for start in offsets:
        for end in offsets:
            want = (*positions.line_char(start), *positions.line_char(end))
            assert positions.line_chars(start, end) == want
            assert positions.json_range(start, end) == {
                "start": {"line": want[0], "character": want[1]},
                "end": {"line": want[2], "character": want[3]},
            }
