"""Real-model-shaped code (tests/fixtures/timm_like): output parses, keeps comments, converts once."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import FIXTURES

SAMPLES = sorted((FIXTURES / "timm_like").glob("*.py"))


def comments(text: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type == tokenize.COMMENT]  # fmt: skip


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_converts_to_code_that_parses_and_keeps_comments(path: Path, shipped_planner: Planner) -> None:
    text = path.read_text(encoding="utf-8")
    result = convert_source(text, shipped_planner)
    assert result.error is None
    ast.parse(result.code)
    assert comments(result.code) == comments(text)
    assert result.counts()["found"] > 50
    again = convert_source(result.code, shipped_planner)
    assert again.code == result.code


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_with_annotations_still_parses(path: Path, shipped_planner: Planner) -> None:
    result = convert_source(path.read_text(encoding="utf-8"), shipped_planner, annotate=True)
    ast.parse(result.code)
    assert convert_source(result.code, shipped_planner, annotate=True).code == result.code
