"""An incremental analysis gives exactly what a from-scratch analysis gives, whatever the edit."""

from __future__ import annotations

import ast
import dataclasses
import random
from pathlib import Path

import pytest

from paddleport.analysis.finder import Analysis, analyze
from paddleport.analysis.incremental import AnalysisCache, Segment
from paddleport.analysis.uses import Confidence, Use, UseKind
from paddleport.rules.loader import RuleSet

FIXTURES = Path(__file__).parent / "fixtures"
# Module-wide facts each statement's walk reads: factory dicts splatted in functions, aliases,
# names with dtypes and tensors, the module's handle on itself, a class whose attributes are typed.
HEADER = '''"""Header."""
import sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dd = {'device': 'cpu', 'dtype': torch.float32}
L = nn.Linear
idx = torch.arange(4)
scale = torch.randn(4)
me = sys.modules[__name__]
opt_kind = torch.optim.AdamW


class Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(4)
        self.w = nn.Parameter(torch.zeros(4))

    def forward(self, x):
        return self.bn(x) * self.w[idx]


def uses_module_facts(h: Holder, x):
    layer = L(4, 4, **dd)
    y = scale + idx
    h.bn.running_mean.zero_()
    z = me.idx.float() / x.sum()
    return layer(y).view(-1), z


if scale.dim() > 0:
    top = torch.ones(2, **dd) < idx[:2]
    top.masked_fill_(top > 0, 1)


class MyConv(nn.Conv2d):
    def forward(self, x):
        return super().forward(x)


def build_conv():
    m = MyConv(3, 8, 3)
    m.reset_parameters()
    return m.padding
'''
TEXT = HEADER + "".join(p.read_text(encoding="utf-8") for p in (
    FIXTURES / "timm_like" / "convnet_like.py", FIXTURES / "train_objects" / "train.py"))  # fmt: skip

INSERTS = [
    "x", "\n", "    ", "(", ")", "'''", "#", ":", ".float()", " + idx", "**dd", "\n\n",
    "import torch\n", "import paddle.nn as nn\n", "import torch.nn as nn\n", "from torch import nn\n",
    "dd = {'device': 'cpu'}\n", "L = nn.Conv2d\n", "idx = idx.float()\n", "scale = 3\n", "Holder = None\n",
    "\n    def extra(self, t):\n        return t.view(2) + self.w\n", "\nclass Net(nn.Linear):\n    pass\n",
    "def uses_module_facts(a):\n    return a\n", "    h = torch.zeros(2, **dd)\n", "# paddleport: ignore\n",
    "\nimport torch as T\n", "\ny = x.long()\n", "    def forward(self, x):\n        return x\n",
    "    def reset_parameters(self):\n        self.padding = 1\n",
]
RENAMES = [("Holder", "Holder2"), ("idx", "jdx"), ("scale", "other"), ("nn", "tnn"), ("dd", "kw"),
           ("torch", "paddle"), ("self.bn", "self.norm"), ("x", "inp"), ("F", "G"), ("import", "#mport")]

# a use with no field at its default: shifting it must carry every one over
FULL_USE = Use("torch.x", None, UseKind.CALL, 10, 20, 11, 20, Confidence.LOW, via_alias=True, store=True,
               via_default=True, plain_class=True, splats=("dd",), statement="    ", keep_layout=True,
               open_files=frozenset({"f"}), promote_to="float32", promote_runtime=True)  # fmt: skip


def same(got: Analysis, want: Analysis) -> None:
    assert got.syntax_error == want.syntax_error
    assert got.uses == want.uses


def edit(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.15:  # a name renamed once or everywhere (a binding, an import, a use)
        old, new = rng.choice(RENAMES)
        if old not in text:
            return text
        return text.replace(old, new) if rng.random() < 0.3 else text.replace(old, new, 1)
    a = rng.randrange(len(text) + 1)
    if roll < 0.6:  # statement boundaries are where a reuse can go wrong
        a = text.rfind("\n", 0, a) + 1
    b = min(len(text), a + rng.choice([0, 0, 0, 1, 3, 20, 80, 300]))
    if rng.random() < 0.3:  # whole lines removed
        b = text.find("\n", b) + 1 or len(text)
    return text[:a] + (rng.choice(INSERTS) if rng.random() < 0.8 else "") + text[b:]


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_analyse_as_from_scratch(seed: int, shipped_rules: RuleSet) -> None:
    rng = random.Random(seed)
    cache = AnalysisCache()
    text = TEXT
    same(analyze(text, shipped_rules, cache=cache), analyze(text, shipped_rules))
    reusing = 0
    good = text
    for _ in range(150):
        new = edit(rng, text)
        got = analyze(new, shipped_rules, cache=cache)
        want = analyze(new, shipped_rules)
        same(got, want)
        reusing += got.reused > 0
        if want.syntax_error is None:
            text = good = new
        else:  # one more edit on the broken text, at times, then back to the last that parsed
            text = new if text is good and rng.random() < 0.3 else good
    assert reusing >= 10  # many edits left the module's facts alone: their statements were reused


def test_an_edit_inside_a_function_walks_that_function_only(shipped_rules: RuleSet) -> None:
    cache = AnalysisCache()
    first = analyze(TEXT, shipped_rules, cache=cache)
    assert first.reused == 0
    statements = len(ast.parse(TEXT).body)
    at = TEXT.index("    z = me.idx")
    typed = TEXT[:at] + "    w = torch.randn(2)\n" + TEXT[at:]  # a line more: later uses move down
    got = analyze(typed, shipped_rules, cache=cache)
    assert got.reused == statements - 1
    same(got, analyze(typed, shipped_rules))
    assert len(got.uses) == len(first.uses) + 1


def test_a_method_added_to_a_class_changes_its_uses_elsewhere(shipped_rules: RuleSet) -> None:
    """`m.reset_parameters()` is torch's unless the file's own class defines it: another statement."""
    cache = AnalysisCache()
    before = analyze(TEXT, shipped_rules, cache=cache)
    at = TEXT.index("class MyConv(nn.Conv2d):\n") + len("class MyConv(nn.Conv2d):\n")
    changed = TEXT[:at] + "    def reset_parameters(self):\n        self.padding = 1\n\n" + TEXT[at:]
    got = analyze(changed, shipped_rules, cache=cache)
    same(got, analyze(changed, shipped_rules))
    apis = {u.api for u in before.uses} - {u.api for u in got.uses}
    assert "torch.nn.Conv2d.reset_parameters" in apis


def test_a_changed_import_walks_everything_again(shipped_rules: RuleSet) -> None:
    cache = AnalysisCache()
    analyze(TEXT, shipped_rules, cache=cache)
    changed = TEXT.replace("import torch.nn.functional as F", "import paddle.nn.functional as F", 1)
    got = analyze(changed, shipped_rules, cache=cache)
    assert got.reused == 0
    same(got, analyze(changed, shipped_rules))


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n", "import torch\n", "x = 1; y = torch.zeros(1)\n"])
def test_texts_without_statements_or_sharing_lines(text: str, shipped_rules: RuleSet) -> None:
    cache = AnalysisCache()
    for version in (TEXT, text, TEXT, text + TEXT, text):
        same(analyze(version, shipped_rules, cache=cache), analyze(version, shipped_rules))


def test_a_moved_statement_keeps_every_field_of_its_uses() -> None:
    values = {f.name: getattr(FULL_USE, f.name) for f in dataclasses.fields(Use)}
    assert all(v != f.default for f, v in zip(dataclasses.fields(Use), values.values(), strict=True))
    moved = Segment((FULL_USE,), (FULL_USE,), frozenset(), True).shifted(7)
    want = dataclasses.replace(FULL_USE, start=17, end=27, focus_start=18, focus_end=27)
    assert moved.uses == moved.factory_uses == (want,)
