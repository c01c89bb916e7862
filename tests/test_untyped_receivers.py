"""Receivers that are surely not tensors are never reported as possible tensors (d2l's torch.py)."""

from __future__ import annotations

import pytest

from paddleport.analysis.finder import analyze
from paddleport.analysis.uses import Confidence
from paddleport.rules.loader import RuleSet
from tests.conftest import dedent


def _methods(source: str, shipped_rules: RuleSet) -> list[str]:
    analysis = analyze(dedent(source), shipped_rules)
    return [u.api for u in analysis.uses if u.api.startswith("torch.Tensor.")]


def test_a_module_from_sys_modules_is_a_module(shipped_rules: RuleSet) -> None:
    """d2l binds itself with `d2l = sys.modules[__name__]`; `d2l.reshape(X, ...)` is its function."""
    assert _methods("""
        import sys, importlib
        import torch
        d2l = sys.modules[__name__]
        other = importlib.import_module("other")
        def f(X):
            return d2l.reshape(X, (-1, 2)), other.split(X, 2)
        """, shipped_rules) == []


def test_a_name_bound_twice_is_not_taken_for_a_module(shipped_rules: RuleSet) -> None:
    assert _methods("""
        import sys
        import torch
        m = sys.modules[__name__]
        m = torch.zeros(2, 3)
        y = m.reshape(3, 2)
        """, shipped_rules) == ["torch.Tensor.reshape"]


@pytest.mark.parametrize("line", [
    "parts = url.split('/')",  # text as the separator: str.split
    "words = line.strip().lower().split(' ')",  # a str method's result
    "toks = line.split()",  # torch's split needs a size
    "lines = fh.read().split(sep)",  # a file's text
    "items = f'{a}-{b}'.split('-', 1)",
])  # fmt: skip
def test_str_calls_are_not_tensor_calls(line: str, shipped_rules: RuleSet) -> None:
    assert _methods(f"import torch\ndef f(url, line, fh, sep, a, b):\n    {line}\n", shipped_rules) == []


def test_a_tensor_split_is_still_found(shipped_rules: RuleSet) -> None:
    assert _methods("""
        import torch
        def f(x: torch.Tensor, y):
            return x.split(2), y.split(2, dim=1)
        """, shipped_rules) == ["torch.Tensor.split", "torch.Tensor.split"]


def test_a_class_reached_through_the_module_itself_is_that_class(shipped_rules: RuleSet) -> None:
    """`metric = d2l.Accumulator(3)` in d2l: `metric.add(a, b, c)` is Accumulator.add, not Tensor.add."""
    assert _methods("""
        import sys
        import torch
        d2l = sys.modules[__name__]

        class Accumulator:
            def add(self, *args):
                pass

        def f(loss, n):
            metric = d2l.Accumulator(3)
            metric.add(loss, n, 1)
        """, shipped_rules) == []


def test_a_torch_function_reached_through_the_module_itself_gives_a_tensor(shipped_rules: RuleSet) -> None:
    """d2l's `arange = torch.arange`, called as `d2l.arange(n).reshape(-1, 1)`: a tensor's reshape."""
    analysis = analyze(dedent("""
        import sys
        import torch
        d2l = sys.modules[__name__]

        def positions(n):
            return d2l.arange(n, dtype=torch.float32).reshape(-1, 1)

        arange = torch.arange
        """), shipped_rules)
    (use,) = [u for u in analysis.uses if u.api == "torch.Tensor.reshape"]
    assert use.confidence >= Confidence.MEDIUM


def test_a_call_with_more_arguments_than_the_tensor_method_takes_is_not_a_tensor_call(
        shipped_rules: RuleSet) -> None:  # fmt: skip
    """d2l's `metric.add(loss, n, acc)` (an Accumulator) cannot be Tensor.add(other): not reported;
    the same call on a known tensor still is (torch would refuse it too)."""
    text = "import torch\n\ndef f(metric, x):\n    metric.add(1.0, 2, 3)\n    y = torch.ones(2)\n    y.add(1, 2)\n"
    apis = [(u.api, text[u.start:u.end]) for u in analyze(text, shipped_rules).uses if u.api == "torch.Tensor.add"]
    assert apis == [("torch.Tensor.add", "y.add(1, 2)")]
