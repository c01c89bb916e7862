"""Lines end where Python and LSP say they do: at \\r\\n, \\r or \\n, and nowhere else.

A lone \\r once shifted every later rewrite onto other code (`print(...)` became
`prinpaddle.rand(...)`) while the summary said "100% exact". Every rewritten
span must be the use it claims to be, whatever the mix of line endings.
"""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

from paddleport.analysis.finder import analyze
from paddleport.analysis.source import SourceText, line_starts, split_lines, split_lines_keepends
from paddleport.lsp.positions import PositionMap
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner

LINES = [
    "import torch",
    "import torch.nn as nn",
    "# a comment with torch.sum in it",
    "x = torch.rand(3)",
    "y = torch.ones(3)",
    "print(x, y)",
    "m = nn.Linear(3, 4)",
    "z = torch.sum(x, dim=0)  # keep me",
    "s = 'a\\x0cb\\u2028c'  # form feed and U+2028 in a string: not line breaks",
    "w = torch.cat([x, y], dim=0)",
    "print(z, w, m)",
]
STYLES = {"lf": ["\n"], "crlf": ["\r\n"], "cr": ["\r"], "mixed": ["\n", "\r\n", "\r"]}


def with_endings(style: str, seed: int = 0) -> str:
    rng = random.Random(seed)
    return "".join(line + rng.choice(STYLES[style]) for line in LINES)


def normalised(text: str) -> str:
    return "\n".join(split_lines(text))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("style", STYLES)
def test_every_rewritten_span_is_the_use_it_claims(shipped_planner: Planner, style: str, seed: int) -> None:
    text = with_endings(style, seed)
    reference = convert_source(with_endings("lf"), shipped_planner)
    analysis = analyze(text, shipped_planner.rules)
    lf_analysis = analyze(with_endings("lf"), shipped_planner.rules)
    assert [text[u.start:u.end] for u in analysis.uses] == [
        with_endings("lf")[u.start:u.end] for u in lf_analysis.uses
    ]
    conv = convert_source(text, shipped_planner)
    assert conv.error is None
    ast.parse(conv.code)
    assert normalised(conv.code) == normalised(reference.code)
    assert "prin" + "paddle" not in conv.code
    assert "# keep me" in conv.code and "# a comment with torch.sum in it" in conv.code
    assert convert_source(conv.code, shipped_planner).code == conv.code


def test_inserted_lines_use_the_files_line_break(shipped_planner: Planner) -> None:
    conv = convert_source("import os\r\nx = __import__('torch').rand(3)\r\nimport torch\r\ny = torch.rand(2)\r\n",
                          shipped_planner)  # fmt: skip
    assert "\n" not in conv.code.replace("\r\n", "")


def test_line_helpers_agree_with_python() -> None:
    text = "a\rb\r\nc\nd\x0ce\u2028f\r"
    assert split_lines(text) == ["a", "b", "c", "d\x0ce\u2028f", ""]
    assert "".join(split_lines_keepends(text)) == text
    assert line_starts(text) == [0, 2, 5, 7, len(text)]
    src = SourceText(text)
    assert [src.line_text(i) for i in range(1, 5)] == ["a", "b", "c", "d\x0ce\u2028f"]
    code = "x = 1\ry = (2 +\r\n3)\nz = 3\x0c\n"
    tree = ast.parse(code)
    assert [n.lineno for n in tree.body] == [1, 2, 4]  # Python's own line numbers
    src = SourceText(code)
    assert [code[slice(*src.node_span(n))] for n in tree.body] == ["x = 1", "y = (2 +\r\n3)", "z = 3"]


@pytest.mark.parametrize("text", ["a\rb\r\nc\nd", "\r\r\n\n", "x\u2028y\x0cz\rw"])
def test_lsp_positions_follow_the_same_lines(text: str) -> None:
    positions = PositionMap(text)
    assert positions.line_count == len(split_lines(text))
    for offset in range(len(text) + 1):
        if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
            continue  # between the two characters of one line break
        assert positions.offset(positions.position(offset)) == offset


def test_check_on_a_lone_cr_file_reports_true_lines(tmp_path: Path) -> None:
    path = tmp_path / "cr.py"
    path.write_bytes(b"import torch\rx = torch.rand(3)\rprint(x)\r")
    result = subprocess.run([sys.executable, "-m", "paddleport", "check", str(path)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"{path}:2:5: PP100 torch.rand" in result.stdout
    assert "Traceback" not in result.stderr
