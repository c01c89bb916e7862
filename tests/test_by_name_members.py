"""Member attributes the name alone identifies (`by_name = true`): an optimizer passed in untyped."""

from __future__ import annotations

from pathlib import Path

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.loader import load_rules
from tests.conftest import dedent


def test_untyped_optimizer_parameter_is_converted(shipped_planner: Planner) -> None:
    """buildNanoGPT's train_step(model, optimizer, ...) sets the rate on an optimizer it is passed."""
    out = convert_source(dedent("""
        import torch

        def train_step(model, optimizer, lr):
            for param_group in optimizer.param_groups:
                param_group['lr'] = lr
            return self_made.param_groups, optimizer.param_groups[0]['lr']
        """), shipped_planner)
    assert "    optimizer.set_lr(lr)\n" in out.code
    assert "optimizer.get_lr()" in out.code


def test_receivers_known_to_be_something_else_stay(shipped_planner: Planner) -> None:
    """`self` in a class of one's own, a module, a tensor: the name proves nothing there."""
    source = dedent("""
        import torch
        import mylib

        class Groups:
            def lr(self):
                return self.param_groups[0]['lr']

        def f(x: torch.Tensor):
            return mylib.param_groups[0]['lr'], x.param_groups[0]['lr']
        """)
    out = convert_source(source, shipped_planner)
    assert out.code.count("param_groups[0]['lr']") == 3


def test_by_name_needs_a_member_attribute_with_a_transform(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(
        '[[rule]]\napi = "torch.optim.Optimizer.defaults"\npaddle = "paddle.optimizer.Optimizer.x"\n'
        'kind = "attribute"\nby_name = true\n', encoding="utf-8")
    rules = load_rules([tmp_path], include_builtin=False)
    assert not rules.by_name
    assert any(e.field == "by_name" for e in rules.errors), rules.errors
