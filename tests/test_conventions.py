"""Calling conventions every rule gets from the engine: `out=`, legacy loss arguments, spelled defaults.

Each behaviour is checked on the converted text and, run under torch and paddle (torch blocked),
on the values: a shipped rule gets an extra example and goes through the verification harness.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from paddleport import verify
from paddleport.rewrite.conventions import legacy_reduction
from paddleport.rewrite.fixes import Planner
from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import RuleSet, load_rules
from paddleport.rules.model import Example
from tests.conftest import last_line_converted

HEAD = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\na = torch.randn(3)\nt = torch.empty(3)\n"


@pytest.mark.parametrize(("line", "expected"), [
    ("torch.add(a, a, out=t)", "paddle.assign(paddle.add(a, a), t)"),
    ("y = torch.abs(a, out=t) + 1", "y = paddle.assign(paddle.abs(a), t) + 1"),
    ("y = torch.abs(a, out=None)", "y = paddle.abs(a)"),
    ("y = torch.abs(a, out=self.buf)", "y = paddle.assign(paddle.abs(a), self.buf)"),
    ("l = nn.MSELoss(size_average=False)", "l = paddle.nn.MSELoss(reduction='sum')"),
    ("l = nn.L1Loss(None, False)", "l = paddle.nn.L1Loss(reduction='none')"),
    ("l = nn.L1Loss(size_average=None, reduce=None)", "l = paddle.nn.L1Loss()"),
    ("l = F.mse_loss(a, a, size_average=True, reduce=True, reduction='sum')",
     "l = paddle.nn.functional.mse_loss(a, a, reduction='mean')"),
    ("z = torch.empty_like(a, memory_format=torch.contiguous_format)", "z = paddle.empty_like(a)"),
    ("z = torch.randn(3, generator=None)", "z = paddle.randn([3])"),
    ("y, i = F.max_pool2d(a, 2, return_indices=True)",
     "y, i = (lambda _r: (_r[0], _r[1].astype('int64')))(paddle.nn.functional.max_pool2d(a, 2, return_mask=True))"),
    ("y = F.max_pool2d(a, 2, return_indices=False)", "y = paddle.nn.functional.max_pool2d(a, 2, return_mask=False)"),
])  # fmt: skip
def test_conventions_rewrite(shipped_planner: Planner, line: str, expected: str) -> None:
    assert last_line_converted(shipped_planner, HEAD, line) == expected


@pytest.mark.parametrize(("line", "why"), [
    ("torch.max(a, 0, out=(t, t))", "several results"),
    ("torch.abs(a, out=buf[0])", "part of a tensor"),
    ("l = F.mse_loss(a, a, reduce=flag)", "not a literal"),
    ("y = F.max_pool2d(a, 2, return_indices=flag)", "not a literal"),
])  # fmt: skip
def test_conventions_refuse(shipped_planner: Planner, line: str, why: str) -> None:
    from paddleport.rewrite.convert import convert_source

    out = convert_source(HEAD + line + "\n", shipped_planner, select=lambda fix: True)
    assert out.code.rstrip("\n").rsplit("\n", 1)[-1] == line
    assert any(why in o.fix.message for o in out.outcomes), [o.fix.message for o in out.outcomes]


@pytest.mark.parametrize(("size_average", "reduce", "expected"), [
    (None, None, "mean"), (True, None, "mean"), (False, None, "sum"), (None, False, "none"),
    (True, False, "none"), (False, True, "sum"), (True, True, "mean"), (False, False, "none"),
])  # fmt: skip
def test_legacy_reduction_is_torchs(size_average: bool | None, reduce: bool | None, expected: str) -> None:
    from torch.nn import _reduction

    assert _reduction.legacy_get_string(size_average, reduce, emit_warning=False) == expected
    assert legacy_reduction(size_average, reduce) == expected


# (rule, example) pairs: each shipped rule is run with an example that uses the convention
RUNS = [
    ("torch.add", "t = zeros(2, 3)\nr = torch.add(randn(2, 3), randn(2, 3), out=t)\nout = (r, t)"),
    ("torch.matmul", "t = zeros(2, 2)\ntorch.matmul(randn(2, 3), randn(3, 2), out=t)\nout = t"),
    ("torch.cumsum", "t = zeros(2, 3)\nout = torch.cumsum(randn(2, 3), 1, out=t) * 2"),
    ("torch.nn.MSELoss", "out = nn.MSELoss(size_average=False)(randn(2, 3), randn(2, 3))"),
    ("torch.nn.L1Loss", "out = nn.L1Loss(None, False)(randn(2, 3), randn(2, 3))"),
    ("torch.nn.functional.smooth_l1_loss",
     "out = F.smooth_l1_loss(randn(4), randn(4), size_average=False, reduce=True)"),
    ("torch.zeros", "out = torch.zeros(2, 3, device=None, layout=torch.strided, pin_memory=False)"),
    ("torch.empty_like", "out = torch.empty_like(randn(2, 3), memory_format=torch.contiguous_format).shape"),
]


def test_conventions_run_equal(shipped_rules: RuleSet, shipped_planner: Planner) -> None:
    rules = []
    for api, code in RUNS:
        rule = shipped_rules.get(api)
        assert rule is not None, api
        rules.append(replace(rule, examples=(Example(code),)))
    verdicts = verify.verify(rules, shipped_planner, shards=1)
    failed = {api: v.reason for api, v in verdicts.items() if not v.verified}
    assert not failed


def _project_rules(tmp_path: Path, text: str, shipped: bool) -> RuleSet:
    (tmp_path / "r.toml").write_text(text, encoding="utf-8")
    return load_rules([tmp_path], known_transforms=TRANSFORMS.keys(), include_builtin=False,
                      code_templates_in=[tmp_path] if shipped else [])  # fmt: skip


def test_keywords_after_names_the_rest(tmp_path: Path) -> None:
    rules = _project_rules(tmp_path, '[[rule]]\napi = "torch.kthvalue"\npaddle = "paddle.kthvalue"\n'
                           'signature = "(input, k, dim=None, keepdim=False)"\nrename = { input = "x", dim = "axis" }\n'
                           'keywords_after = 2\nexample = "out = torch.kthvalue(randn(4), 2, 0)"\n', shipped=False)
    assert not rules.errors, rules.errors
    line = last_line_converted(Planner(rules), "import torch\n", "y = torch.kthvalue(a, 2, 0, True)")
    assert line == "y = paddle.kthvalue(a, 2, axis=0, keepdim=True)"


def test_formula_is_shipped_only_and_binds_repeated_arguments(tmp_path: Path) -> None:
    text = ('[[rule]]\napi = "torch.special.expit"\nsignature = "(input)"\n'
            'formula = "1 / (1 + paddle.exp(-{input})) + 0 * {input}"\nexample = "out = torch.special.expit(randn(3))"\n')
    assert any(e.field == "formula" for e in _project_rules(tmp_path, text, shipped=False).errors)
    rules = _project_rules(tmp_path, text, shipped=True)
    assert not rules.errors, rules.errors
    line = last_line_converted(Planner(rules), "import torch\n", "y = torch.special.expit(f(a))")
    assert line == "y = (lambda _input: 1 / (1 + paddle.exp(-_input)) + 0 * _input)(f(a))"
    bad = text.replace("{input}))", "{x}))")
    assert any(e.field == "formula" for e in _project_rules(tmp_path, bad, shipped=True).errors)
