"""The language server's pure modules, without a connection."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types

from paddleport.catalog import make_planner
from paddleport.lsp.actions import quick_fix
from paddleport.lsp.diagnostics import rule_anchor, rule_error_diagnostics, shift_diagnostics
from paddleport.lsp.documents import DocumentView
from paddleport.lsp.notebooks import join_cells, mask_magics, split_cells
from paddleport.lsp.positions import PositionMap
from paddleport.lsp.settings import Settings, parse_settings
from paddleport.lsp.state import diagnose
from paddleport.lsp.textdiff import fast_edits
from paddleport.rewrite.edits import apply_edits
from paddleport.rules.loader import RuleError
from paddleport.rules.model import Tier


def test_settings_from_the_vscode_object() -> None:
    settings, problems = parse_settings(
        {
            "settings": {
                "paddleport": {
                    "enable": True,
                    "run": "onSave",
                    "severity": {"exact": "error", "review": "warning", "manual": "off"},
                    "ruleSeverity": {"torch.cat": "hint"},
                    "extraRuleFolders": ["/r"],
                    "annotate": True,
                    "kernelInterpreter": " /usr/bin/python3 ",
                    "equivalence": {"rtol": 1e-3, "atol": 0, "timeout": 5},
                    "equivalenceEnabled": False,
                }
            }
        }
    )
    assert problems == []
    assert settings.run == "onSave" and settings.extra_rule_folders == ("/r",)
    assert settings.severity_for("torch.cat", Tier.EXACT) == "hint"
    assert settings.severity_for("torch.zeros", Tier.MANUAL) == "off"
    assert (settings.rtol, settings.atol, settings.timeout) == (1e-3, 0.0, 5.0)
    assert settings.kernel_interpreter == "/usr/bin/python3" and not settings.equivalence_enabled


def test_bad_fields_are_named_and_fall_back() -> None:
    settings, problems = parse_settings(
        {
            "paddleport": {
                "enable": "yes",
                "severity": {"exact": "loud", "bogus": "error"},
                "extraRuleFolders": 3,
                "equivalence": {"timeout": 0, "rtol": -1},
            }
        }
    )
    fields = [p.split(":")[0] for p in problems]
    assert fields == [
        "paddleport.severity.exact",
        "paddleport.severity.bogus",
        "paddleport.extraRuleFolders",
        "paddleport.equivalence.rtol",
        "paddleport.equivalence.timeout",
        "paddleport.enable",
    ]
    assert settings == Settings()
    assert parse_settings(None) == (Settings(), [])


def test_positions_in_each_encoding() -> None:
    text = "a😀b\nxé\n"
    assert PositionMap(text, "utf-16").position(2) == types.Position(line=0, character=3)
    assert PositionMap(text, "utf-8").position(2) == types.Position(line=0, character=5)
    assert PositionMap(text, "utf-32").position(2) == types.Position(line=0, character=2)
    assert PositionMap(text, "utf-16").offset(types.Position(line=0, character=3)) == 2
    assert PositionMap(text, "utf-8").offset(types.Position(line=1, character=3)) == 6
    assert PositionMap(text).offset(types.Position(line=9, character=0)) == len(text)


@pytest.mark.parametrize(("encoding", "codec", "width"), [("utf-16", "utf-16-le", 2), ("utf-8", "utf-8", 1),
                                                          ("utf-32", "utf-32-le", 4)])  # fmt: skip
def test_only_lines_with_wide_characters_count_units(encoding: str, codec: str, width: int) -> None:
    text = "x = 1\ns = 'é😀' + t\r\n\nab\u2028y = 2\rz😀w\n" + "torch.sum(x)\n" * 3
    positions = PositionMap(text, encoding)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    assert positions.line_count == len(lines)
    for offset in range(len(text) + 1):
        line, start = 0, 0
        while line + 1 < positions.line_count and positions.line_starts[line + 1] <= offset:
            line += 1
        start = positions.line_starts[line]
        units = len(text[start:offset].encode(codec, errors="surrogatepass")) // width
        assert positions.line_char(offset) == (line, units)
        assert positions.line_chars(offset, len(text)) == (line, units, *positions.line_char(len(text)))
        if text[offset - 1 : offset + 1] != "\r\n":
            assert positions.offset(positions.position(offset)) == offset


def test_shift_keeps_lines_above_moves_lines_below_drops_edited() -> None:
    def diag(line: int) -> dict[str, Any]:
        pos = {"line": line, "character": 0}
        return {"range": {"start": pos, "end": pos}, "message": str(line), "data": {"fix": {}}}

    old = "a\nb\nc\nd\n"
    new = "a\nB(\nB2\nc\nd\n"
    out = shift_diagnostics(old, new, [diag(0), diag(1), diag(2), diag(3)])
    assert [(d["message"], d["range"]["start"]["line"]) for d in out] == [("0", 0), ("2", 3), ("3", 4)]
    assert all(d["data"]["fix"] is None for d in out)


def test_notebook_cells_join_and_split() -> None:
    joined = join_cells([("c0", "import torch\n%time x"), ("c1", "!ls\ny = 1")])
    assert mask_magics("  %time x") == "  #time x"
    assert joined.text.count("#time x") == 1 and "#ls" in joined.text
    assert joined.cell_at(joined.cells[1].start, joined.cells[1].end) == 1
    assert split_cells(joined.text, 2) == ["import torch\n#time x", "#ls\ny = 1"]
    assert split_cells("no marker", 2) is None


def test_diagnose_a_notebook_view() -> None:
    view = DocumentView.for_notebook("nb", 1, [("c0", "import torch", 1), ("c1", "x = torch.zeros(2)", 1)])
    state = diagnose(view, make_planner(), Settings())
    assert [d["code"] for d in state.diagnostics["c1"]] == ["torch.zeros"]
    assert (state.counts.uses, state.counts.convertible) == (1, 1)


def test_rule_errors_point_at_the_field(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[[rule]]\napi = "torch.a"\n\n[[rule]]\napi = "torch.b"\ntier = "x"\n')
    out = rule_error_diagnostics([RuleError(str(path), "torch.b", "tier", "bad tier")])
    [d] = out[str(path)]
    assert d["range"]["start"]["line"] == 5 and "torch.b" in d["message"]


def test_rule_anchor_matches_githubs_heading_slug() -> None:
    assert rule_anchor("torch.nn.Conv2d") == "torchnnconv2d"
    assert rule_anchor("torch.Tensor.view") == "torchtensorview"


def test_fast_edits_reproduce_the_new_text_exactly() -> None:
    rnd = random.Random(7)
    pool = ["a\n", "b\n", "x = 1\n", "\n", "z = torch.f(1)\n", "    y()\n"]
    for _ in range(1500):
        old_lines = [rnd.choice(pool) for _ in range(rnd.randint(0, 12))]
        new_lines = list(old_lines)
        for _ in range(rnd.randint(0, 4)):
            op = rnd.random()
            if op < 0.3 and new_lines:
                del new_lines[rnd.randrange(len(new_lines))]
            elif op < 0.6:
                new_lines.insert(rnd.randint(0, len(new_lines)), rnd.choice(["q\n", "a\n"]))
            elif new_lines:
                k = rnd.randrange(len(new_lines))
                new_lines[k] = new_lines[k].replace("1", "22").replace("torch", "paddle")
        old, new = "".join(old_lines), "".join(new_lines)
        if rnd.random() < 0.2:
            new = new.rstrip("\n")
        assert apply_edits(old, fast_edits(old, new)) == new, (old, new)


def test_fast_edits_touch_only_what_changed() -> None:
    old = "import torch\n\nx = torch.zeros(2)\ny = 1\n"
    new = "import paddle\n\nx = paddle.zeros(2)\ny = 1\n"
    assert [e.text for e in fast_edits(old, new)] == ["paddle", "paddle"]


def test_quick_fix_ignores_malformed_data() -> None:
    zero = types.Position(line=0, character=0)
    for data in ({"fix": {"edits": [{"range": "x"}]}}, {"fix": None}, "junk"):
        d = types.Diagnostic(
            range=types.Range(start=zero, end=zero), message="m", source="paddleport", data=data
        )
        assert quick_fix("file:///x.py", d) is None


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"debounceMs": 1e9}, "debounceMs"), ({"equivalence": {"timeout": 1e12}}, "equivalence.timeout"),
     ({"equivalence": {"rtol": 5}}, "equivalence.rtol"), ({"debounceMs": float("nan")}, "debounceMs")],
)
def test_settings_out_of_range_fall_back_with_a_message(raw: dict[str, object], field: str) -> None:
    settings, problems = parse_settings(raw)
    assert settings.debounce_ms == Settings().debounce_ms and settings.timeout == Settings().timeout
    assert any(p.startswith(f"paddleport.{field}:") and "up to" in p for p in problems), problems


def test_a_large_document_says_it_is_analysed_on_save_only() -> None:
    from paddleport.lsp.documents import ON_TYPE_MAX_CHARS

    body = "import torch\nx = torch.zeros(2)\n" + "# padding\n" * (ON_TYPE_MAX_CHARS // 10 + 1)
    state = diagnose(DocumentView("file:///big.py", body, 1), make_planner(), Settings())
    [note, *uses] = state.diagnostics["file:///big.py"]
    assert "when it is saved, not while you type" in note["message"]
    assert any(d["code"] == "torch.zeros" for d in uses)


def test_one_definition_of_the_counts_everywhere() -> None:
    """The CLI said 30 uses, the editor 26, the tooltip 26 fixable and on-save fixed 16."""
    from paddleport.cli.check import check_text
    from paddleport.lsp.actions import exact_only
    from paddleport.rewrite.convert import convert_source, default_selector

    text = ("import torch\nimport torch.nn as nn\n\nclass M(nn.Module):\n    def __init__(self):\n"
            "        super().__init__()\n        self.fc = nn.Linear(4, 3)\n        self.conv = nn.Conv2d(3, 8, 3)\n\n"
            "    def forward(self, x, y):\n        z = torch.sum(x, dim=1).view(2, 3)\n"
            "        w = y.reshape(2, 3)\n        return torch.some_new_api(z) + w.max(1)[1]\n")  # fmt: skip
    planner = make_planner()
    state = diagnose(DocumentView("file:///m.py", text, 1), planner, Settings())
    _, cli = check_text("m.py", text, planner)
    assert state.counts == cli
    shown = [d for d in state.diagnostics["file:///m.py"] if "import" not in d["message"].split(":")[0]]
    assert cli.uses == len(shown)

    def applied(select: Any) -> int:
        return sum(o.applied and not o.fix.keeps_text for o in convert_source(text, planner, select=select).outcomes)

    assert applied(exact_only) == cli.on_save
    assert applied(default_selector()) == cli.convertible
    assert 0 < cli.on_save < cli.convertible < cli.uses


def test_a_runtime_lookup_gets_no_span_edit_but_a_feature_probe_does() -> None:
    """A lookup's name map comes with whole-file conversion; a span edit alone would name nothing."""
    text = "import torch.nn as nn\nact = getattr(nn, name)()\nok = hasattr(nn, 'ReLU')\n"
    state = diagnose(DocumentView("file:///m.py", text, 1), make_planner(), Settings())
    by_code = {d["code"]: d for d in state.diagnostics["file:///m.py"]}
    assert by_code["torch.nn"]["data"]["fix"] is None
    assert by_code["torch.nn.ReLU"]["data"]["fix"]["edits"]
