"""The program-level verdict: what still ties converted code to torch, and where."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from paddleport.batch import file_result, summarise
from paddleport.rewrite.convert import Conversion, convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.verdict import Item, file_items, needs_torch, torch_imports
from tests.conftest import dedent

Convert = Callable[..., Conversion]


def kinds(items: list[Item]) -> list[tuple[str, str, str]]:
    return [(i.where, i.kind, i.api) for i in items]


def test_every_import_form_is_found() -> None:
    code = dedent(
        """
        import os, torch.nn as nn
        from torch import Tensor
        from torchvision.ops import nms
        import torchaudio
        from torch.nn import *
        from .torch import local
        import torchx

        def f():
            import torch.nn.functional as F
            m = __import__("torch")
            return importlib.import_module("torchvision.models")
        """
    )
    assert kinds(torch_imports(code)) == [
        ("1:1", "import", "torch.nn"),
        ("2:1", "import", "torch"),
        ("3:1", "import", "torchvision.ops"),
        ("4:1", "import", "torchaudio"),
        ("5:1", "import", "torch.nn"),
        ("10:5", "import", "torch.nn.functional"),
        ("11:9", "import", "torch"),
        ("12:12", "import", "torchvision.models"),
    ]


def test_imports_with_a_fallback_or_for_type_checkers_do_not_block() -> None:
    code = dedent(
        """
        from typing import TYPE_CHECKING
        try:
            from torch import vmap
        except ImportError:
            vmap = None
        try:
            import torchvision
        except (ValueError, ModuleNotFoundError):
            torchvision = None
        if TYPE_CHECKING:
            import torch
        else:
            import torchaudio
        """
    )
    items = torch_imports(code)
    assert kinds(items) == [("3:5", "optional", "torch"), ("7:5", "optional", "torchvision"),
                            ("11:5", "optional", "torch"), ("13:5", "import", "torchaudio")]  # fmt: skip
    assert "fallback (except ImportError)" in items[0].message
    assert "type checkers only" in items[2].message
    assert needs_torch(items) and not needs_torch(items[:3])


def test_a_try_that_does_not_catch_import_errors_blocks() -> None:
    code = "try:\n    import torch\nexcept ValueError:\n    pass\n"
    assert kinds(torch_imports(code)) == [("2:5", "import", "torch")]


def test_a_file_that_does_not_parse_is_judged_by_its_import_lines() -> None:
    items = torch_imports("import torch\n  from torchvision import x\ny = (\n")
    assert kinds(items) == [("1:8", "import", "torch"), ("2:8", "import", "torchvision")]


def test_leftovers_are_blockers_at_their_place_in_the_converted_code(convert: Convert, planner: Planner) -> None:
    conv = convert(
        """
        import torch
        import torch.nn as nn
        import torchvision

        m = nn.Linear(2, 3)
        y = torch.some_new_api(x)
        if hasattr(torch, "compile"):
            net = torchvision.models.resnet18()
        register(torch)
        """
    )
    assert conv.code.splitlines()[:2] == ["import torch", "import paddle"]
    items = file_items(conv, planner)
    assert kinds(items) == [
        ("1:1", "import", "torch"),
        ("3:1", "import", "torchvision"),
        ("5:5", "review", "torch.nn.Linear"),  # `m = paddle.nn.Linear(2, 3)` on line 5 of the output
        ("6:5", "blocking", "torch.some_new_api"),
        ("7:4", "review", "torch.compile"),  # a feature probe: `if False:`
        ("8:11", "blocking", "torchvision.models.resnet18"),
        ("9:10", "blocking", "torch"),
    ]
    lines = conv.code.splitlines()
    assert lines[4][4:].startswith("paddle.nn.Linear") and lines[5][4:].startswith("torch.some_new_api")
    assert "has no paddleport rule" in items[3].message
    assert "`torchvision.models.resnet18` has no paddleport rule" in items[5].message  # found like torch uses
    assert "module used as a value" in items[6].message
    assert needs_torch(items)


def test_a_converted_file_without_torch_is_free(convert: Convert, planner: Planner) -> None:
    conv = convert("import torch\nimport torch.nn.functional as F\ny = F.relu(torch.sum(x, dim=1))\n")
    assert conv.code == "import paddle\ny = paddle.nn.functional.relu(paddle.sum(x, axis=1))\n"
    assert file_items(conv, planner) == [] and not needs_torch(file_items(conv, planner))


def test_uses_through_a_fallback_import_are_optional_too(convert: Convert, planner: Planner) -> None:
    conv = convert(
        """
        try:
            from torch import vmap
        except ImportError:
            from functorch import vmap
        y = vmap(f)(x)
        """
    )
    items = file_items(conv, planner)
    assert kinds(items) == [("2:5", "optional", "torch"), ("5:5", "optional", "torch.vmap")]
    assert not needs_torch(items)


def test_untyped_receivers_left_as_written_are_manual_not_blocking(convert: Convert, planner: Planner) -> None:
    conv = convert("import torch\n\ndef f(t):\n    return torch.zeros(2), t.view(2, 3)\n")
    items = file_items(conv, planner)
    assert kinds(items) == [("4:33", "manual", "torch.Tensor.view")]
    assert conv.code.splitlines()[3][32:].startswith("view(2, 3)")
    assert not needs_torch(items)


def test_nested_review_items_point_into_the_rewritten_parent(convert: Convert, planner: Planner) -> None:
    conv = convert(
        """
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        y = torch.sum(
            nn.Linear(2, 3)(x),
            dim=1,
        )
        """
    )
    review = [i for i in file_items(conv, planner) if i.kind == "review"]
    assert [(i.where, i.api) for i in review] == [("4:5", "torch.nn.Linear")]
    assert conv.code.splitlines()[2:4] == ["y = paddle.sum(", "    paddle.nn.Linear(2, 3)(x),"]


def test_unused_torch_imports_go_even_when_nothing_else_converts(convert: Convert) -> None:
    out = convert("import os\nimport torch\nimport torchvision\nnet = torchvision.models.resnet18()\n")
    assert out.code == "import os\nimport torchvision\nnet = torchvision.models.resnet18()\n"
    assert convert(out.code).code == out.code


def test_re_exported_torch_names_keep_their_import(convert: Convert, planner: Planner) -> None:
    out = convert("from torch.nn import Module\nfrom torch import zeros\n__all__ = ['Module']\n")
    assert out.code == "from torch.nn import Module\n__all__ = ['Module']\n"
    assert kinds(file_items(out, planner)) == [("1:1", "import", "torch.nn")]


def test_choosing_some_fixes_leaves_unused_imports_alone(convert: Convert) -> None:
    out = convert("import torch\nx = 1\n", select=lambda fix: False)
    assert out.code == "import torch\nx = 1\n"


def test_annotate_marks_review_items_once(convert: Convert, planner: Planner) -> None:
    before = dedent(
        """
        import torch
        import torch.nn as nn

        a = nn.Linear(2, 3)  # head
        b = torch.cat([nn.Linear(3, 4),
                       nn.BatchNorm2d(4)])
        c = torch.some_new_api(a)
        """
    )
    out = convert_source(before, planner, annotate=True)
    lines = out.code.splitlines()
    assert lines[3].startswith("a = paddle.nn.Linear(2, 3)  # head  # paddleport: review — torch.nn.Linear →")
    assert lines[4] == "b = paddle.concat([paddle.nn.Linear(3, 4),"  # the mark goes where the statement ends
    assert lines[5].startswith("               paddle.nn.BatchNorm2D(4)])  # paddleport: review — torch.nn.Linear")
    assert lines[5].endswith("(also torch.nn.BatchNorm2d)")
    assert lines[6].startswith("c = torch.some_new_api(a)  # paddleport: manual — ")
    assert convert_source(out.code, planner, annotate=True).code == out.code  # converting again: no change
    assert convert_source(before, planner, annotate=True).code == out.code


def test_summary_says_plainly_whether_torch_is_still_needed(convert: Convert, planner: Planner) -> None:
    dirty = file_result(Path("src/a.py"), convert("import torch\ny = torch.some_new_api(x)\n"), planner)
    clean = file_result(Path("src/b.py"), convert("import torch\ny = torch.zeros(2)\n"), planner)
    s = summarise([dirty, clean], {Path("src/a.py"): Path("out/a.py")})
    assert s.needs_torch and s.torch_files == [Path("out/a.py")]
    assert s.verdict() == ("The converted project will NOT run without torch: 1 of 2 files still import "
                           "torch (1 import, 1 torch use left).")  # fmt: skip
    data = s.as_dict()
    assert list(data)[:3] == ["needs_torch", "verdict", "torch_files"]
    assert data["torch_files"] == [{
        "path": "out/a.py",
        "imports": [{"line": 1, "col": 1, "kind": "import", "api": "torch",
                     "message": "`import torch` runs: the file needs torch"}],
        "blockers": [{"line": 2, "col": 5, "kind": "blocking", "api": "torch.some_new_api",
                      "message": dirty.items[1].message}],
    }]  # fmt: skip
    assert data["blockers"] == 2
    assert [f["needs_torch"] for f in data["per_file"]] == [True, False]  # type: ignore[index]
    free = summarise([clean])
    assert not free.needs_torch and free.verdict() == "No file imports or uses torch any more."


def test_annotate_never_writes_into_a_string_or_after_a_backslash(planner: Planner) -> None:
    before = 'import torch\nif torch.some_new_api("""a\nb""") and \\\n   torch.other_api(1):\n    pass\n'
    lines = convert_source(before, planner, annotate=True).code.splitlines()
    assert lines[1:3] == ['if torch.some_new_api("""a', 'b""") and \\']  # no room for a mark here
    assert lines[3].startswith("   torch.other_api(1):  # paddleport: manual — ")


def test_positions_survive_dropped_imports_around_many_identical_lines(convert: Convert, planner: Planner) -> None:
    body = "y = torch.sum(x, dim=1)\n" * 5000
    conv = convert("import torch\n" + body + "def f(t):\n    import torch.nn as nn\n    return nn.Linear(2, 3), t.view(2)\n")
    lines = conv.code.splitlines()
    assert lines[-2:] == ["def f(t):", "    return paddle.nn.Linear(2, 3), t.view(2)"]
    items = file_items(conv, planner)
    assert kinds(items) == [(f"{len(lines)}:12", "review", "torch.nn.Linear"),
                            (f"{len(lines)}:38", "manual", "torch.Tensor.view")]  # fmt: skip


def test_a_call_left_as_written_through_an_alias_is_manual(convert: Convert, planner: Planner) -> None:
    conv = convert("import torch.nn as nn\nL = nn.Linear\nm = L(2, 3, *extra)\n")
    assert conv.code == "import paddle\nL = paddle.nn.Linear\nm = L(2, 3, *extra)\n"
    assert kinds(file_items(conv, planner)) == [("2:5", "review", "torch.nn.Linear"),
                                                ("3:5", "manual", "torch.nn.Linear")]  # fmt: skip


def test_an_import_with_a_fallback_definition_stays(convert: Convert, planner: Planner) -> None:
    before = "try:\n    from torch import _assert\nexcept ImportError:\n    def _assert(c, m):\n        assert c, m\n"
    out = convert(before)
    assert out.code == before  # `pass` instead would leave `_assert` unbound for modules importing it
    assert kinds(file_items(out, planner)) == [("2:5", "optional", "torch")]
