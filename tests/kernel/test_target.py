"""Finding the target and its example call: pure ast, no kernel."""

from __future__ import annotations

import textwrap

import pytest

from paddleport.kernel.linemap import line_map
from paddleport.kernel.target import (
    TargetError,
    definitions_only,
    find_target,
    resolve_call,
    target_at,
)

SOURCE = textwrap.dedent("""
    import torch
    from torch import nn


    def scale(x: torch.Tensor, factor: float = 2.0):
        return x * factor


    def count(n: int, flag: bool = True):
        return torch.arange(n)


    # a helper
    # paddleport: example Block(8)(randn(2, 8))
    @torch.no_grad()
    class Block(nn.Module):
        def __init__(self, dim: int):
            super().__init__()
            self.fc = nn.Linear(dim, dim)

        def forward(self, x):
            return self.fc(x)
""").lstrip("\n")


def test_finds_functions_and_classes_by_name() -> None:
    block = find_target(SOURCE, "Block")
    assert (block.kind, block.line, block.first_line) == ("class", 16, 15)
    with pytest.raises(TargetError, match="defined here: scale, count, Block"):
        find_target(SOURCE, "missing")


def test_position_inside_a_method_gives_its_class() -> None:
    target = target_at(SOURCE, 21)
    assert target is not None and target.name == "Block"
    assert target_at(SOURCE, 1) is None


def test_example_comment_above_decorators_is_used() -> None:
    call = resolve_call(SOURCE, find_target(SOURCE, "Block"), None)
    assert (call.callee, call.arguments, call.source) == ("Block(8)", "(randn(2, 8))", "comment")


def test_explicit_example_wins_and_is_split() -> None:
    call = resolve_call(SOURCE, find_target(SOURCE, "scale"), "scale(randn(2, 3), factor=0.5)")
    assert (call.callee, call.arguments, call.source) == ("scale", "(randn(2, 3), factor=0.5)", "option")


def test_call_derived_from_annotations_and_defaults() -> None:
    call = resolve_call(SOURCE, find_target(SOURCE, "count"), None)
    assert (call.text, call.source) == ("count(2)", "derived")


def test_a_tensor_without_shape_asks_for_an_exact_example() -> None:
    with pytest.raises(TargetError) as err:
        resolve_call(SOURCE, find_target(SOURCE, "scale"), None)
    message = str(err.value)
    assert "parameter 'x: torch.Tensor' needs a shape" in message
    assert '--example "scale(randn(2, 3))"' in message
    assert "# paddleport: example scale(randn(2, 3))" in message


def test_examples_must_call_the_target() -> None:
    with pytest.raises(TargetError, match="must call scale"):
        resolve_call(SOURCE, find_target(SOURCE, "scale"), "count(3)")
    with pytest.raises(TargetError, match="constructs it and calls it"):
        resolve_call(SOURCE, find_target(SOURCE, "Block"), "Block(8)")
    with pytest.raises(TargetError, match="not a Python expression"):
        resolve_call(SOURCE, find_target(SOURCE, "scale"), "scale(")


def test_line_map_follows_removed_and_added_import_lines() -> None:
    original = "import torch\nimport torch.nn.functional as F\n\ndef f(x):\n    return F.relu(x)\n"
    converted = "import paddle\n\ndef f(x):\n    return paddle.nn.functional.relu(x)\n"
    assert line_map(original, converted) == [1, 3, 4, 5, 6]
    assert line_map("a\nb\n", "x\na\nb\n") == [1, 1, 2, 3]


def test_init_wrapped_constructor_is_a_valid_class_example() -> None:
    call = resolve_call(SOURCE, find_target(SOURCE, "Block"), "init(Block(8))(randn(2, 8))")
    assert (call.callee, call.arguments) == ("init(Block(8))", "(randn(2, 8))")


def test_definitions_only_blanks_top_level_work_and_keeps_line_numbers() -> None:
    text = (
        "import torch\nN = 3\nmodel = train(\n    N)\nfor i in range(N):\n    pass\ndef f():\n    return N\n"
    )
    kept = definitions_only(text)
    assert kept.split("\n") == ["import torch", "N = 3", "pass", "", "pass", "", "def f():",
                                "    return N", ""]  # fmt: skip
