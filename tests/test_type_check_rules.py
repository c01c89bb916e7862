"""`type_check`: a class ported by hand when subclassed still converts in isinstance tests."""

from __future__ import annotations

from pathlib import Path

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.loader import load_rules
from tests.conftest import dedent


def test_isinstance_takes_paddles_optimizers_and_the_helpers_subclasses(shipped_planner: Planner) -> None:
    """d2l's train_epoch_ch3 asks `isinstance(updater, torch.optim.Optimizer)`; a torch-style subclass
    becomes a subclass of the helper with torch's Optimizer API, which the test accepts too."""
    out = convert_source(dedent("""
        import torch

        def step(updater):
            if isinstance(updater, (torch.optim.Optimizer, list)) or issubclass(type(updater), torch.optim.Optimizer):
                updater.step()

        class Mine(torch.optim.Optimizer):
            pass
        """), shipped_planner)
    both = "(paddle.optimizer.Optimizer, _paddleport_vision.Optimizer)"
    assert f"isinstance(updater, ({both}, list))" in out.code
    assert f"issubclass(type(updater), {both})" in out.code
    assert "class Mine(_paddleport_vision.Optimizer):" in out.code
    assert "class _paddleport_vision:" in out.code and "import torch" not in out.code
    assert all(o.applied for o in out.outcomes if o.use.api == "torch.optim.Optimizer")


def test_a_manual_class_rule_converts_only_isinstance(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(
        '[[rule]]\napi = "torch.optim.Optimizer"\ntier = "manual"\nguide = "port it by hand, see docs"\n'
        'type_check = "paddle.optimizer.Optimizer"\n', encoding="utf-8")
    rules = load_rules([tmp_path], include_builtin=False)
    assert not rules.errors
    out = convert_source(dedent("""
        import torch

        def step(updater):
            return isinstance(updater, torch.optim.Optimizer)

        class Mine(torch.optim.Optimizer):
            pass
        """), Planner(rules))
    assert "isinstance(updater, paddle.optimizer.Optimizer)" in out.code
    assert "class Mine(torch.optim.Optimizer):" in out.code
    left = [o for o in out.outcomes if not o.applied and o.use.api == "torch.optim.Optimizer"]
    assert len(left) == 1 and "manual port" in left[0].fix.message


def test_type_check_must_be_a_paddle_name(tmp_path: Path) -> None:
    (tmp_path / "r.toml").write_text(
        '[[rule]]\napi = "torch.optim.Optimizer"\ntier = "manual"\nguide = "port it by hand, see docs"\n'
        'type_check = "os.system"\n', encoding="utf-8")
    rules = load_rules([tmp_path], include_builtin=False)
    assert any(e.field == "type_check" for e in rules.errors), rules.errors
