"""Diagnostics built statement by statement over an incremental analysis equal a from-scratch build."""

from __future__ import annotations

import json
import random

import pytest
from tests.test_incremental import TEXT, edit  # the analysis-level property test's text and edits

from paddleport.analysis.finder import analyze
from paddleport.catalog import make_planner
from paddleport.lsp.diagnostics import build_diagnostics
from paddleport.lsp.documents import DocumentView
from paddleport.lsp.positions import UTF8, UTF16, UTF32
from paddleport.lsp.settings import Settings
from paddleport.lsp.state import DocState, diagnose
from paddleport.rewrite.convert import count_uses, plan
from paddleport.rewrite.fixes import Planner

# What a fix takes from the whole file (a helper class for torchvision's datasets, an adapter
# for a layer class passed as a value), Unicode that moves UTF-16 and UTF-8 columns, statements
# with the same text twice, and a device/dtype dict whose use another statement's splat makes.
EXTRA = '''
import torchvision
from torchvision import datasets


def loaders(root):
    train = datasets.MNIST(root, train=True, download=True)
    act = nn.ReLU
    return train, act(inplace=True)


x = torch.zeros(2)  # é 😀
x = torch.zeros(2)  # é 😀
y = torch.cat([x, x], dim=0)
'''
SOURCE = TEXT + EXTRA


def fresh(view: DocumentView, planner: Planner, settings: Settings) -> tuple[list[dict[str, object]], object]:
    analysis = analyze(view.text, planner.rules)
    fixes = plan(analysis, planner)
    built = build_diagnostics(fixes, view.text, settings, view.locator)
    return built.get(view.uri, []), count_uses(fixes)


@pytest.mark.parametrize(("seed", "encoding"), [(0, UTF16), (1, UTF16), (2, UTF8), (3, UTF32)])
def test_random_edits_diagnose_as_from_scratch(seed: int, encoding: str) -> None:
    planner, settings = make_planner(), Settings()
    rng = random.Random(seed)
    text = good = SOURCE
    state: DocState = diagnose(DocumentView("f", text, 0, encoding), planner, settings)
    reused = 0
    for version in range(1, 70):
        if rng.random() < 0.4:  # typing in a line, or a line break, the commonest edits
            at = rng.randrange(len(text) + 1)
            new = text[:at] + rng.choice(["x", " ", "é", "😀", "\n", "  # note"]) + text[at:]
        else:
            new = edit(rng, text)
        view = DocumentView("f", new, version, encoding)
        before = state.memo.regions if state.memo else {}
        state = diagnose(view, planner, settings, state)
        if not state.parsed:
            text = good
            continue
        text = good = new
        want, counts = fresh(view, planner, settings)
        assert state.diagnostics["f"] == want
        assert [json.loads(s) for s in state.serialised["f"]] == want
        assert state.counts == counts
        assert state.memo is not None
        reused += sum(1 for r in state.memo.regions.values() if any(r is b for b in before.values()))
    assert reused > 100  # most statements' diagnostics were reused, not made again


def test_a_statement_moved_by_lines_keeps_its_diagnostics_moved() -> None:
    planner, settings = make_planner(), Settings()
    state = diagnose(DocumentView("f", SOURCE, 0), planner, settings)
    at = SOURCE.index("def uses_module_facts")
    moved = SOURCE[:at] + "\n\n# two lines more\n" + SOURCE[at:]
    view = DocumentView("f", moved, 1)
    after = diagnose(view, planner, settings, state)
    want, _ = fresh(view, planner, settings)
    assert after.diagnostics["f"] == want
    assert [json.loads(s) for s in after.serialised["f"]] == want


def test_changed_severities_make_every_statement_again() -> None:
    planner = make_planner()
    state = diagnose(DocumentView("f", SOURCE, 0), planner, Settings())
    quiet = Settings(rule_severity={"torch.nn.Conv2d": "off", "torch.cat": "hint"})
    view = DocumentView("f", SOURCE, 1)
    after = diagnose(view, planner, quiet, state)
    want, _ = fresh(view, planner, quiet)
    assert after.diagnostics["f"] == want != state.diagnostics["f"]
