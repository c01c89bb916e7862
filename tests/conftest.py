"""Shared fixtures.

Engine tests run against a small, fixed rule set (tests/fixtures/rules) so they
specify the converter's behaviour independently of the shipped catalogue;
tests of the shipped rules use ``shipped_rules``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from paddleport.catalog import load_catalog
from paddleport.rewrite.convert import Conversion, convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import RuleSet, load_rules

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    loaded = load_rules([FIXTURES / "rules"], known_transforms=TRANSFORMS.keys(),
                        include_builtin=False, code_templates_in=[FIXTURES / "rules"])  # fmt: skip
    assert not loaded.errors, [str(e) for e in loaded.errors]
    return loaded


@pytest.fixture(scope="session")
def planner(rules: RuleSet) -> Planner:
    return Planner(rules)


@pytest.fixture(scope="session")
def shipped_rules() -> RuleSet:
    loaded = load_catalog()
    assert not loaded.errors, [str(e) for e in loaded.errors]
    return loaded


@pytest.fixture(scope="session")
def shipped_planner(shipped_rules: RuleSet) -> Planner:
    return Planner(shipped_rules)


def last_line_converted(planner: Planner, head: str, line: str) -> str:
    """The converted last line of ``head + line`` (every use converted, whatever its confidence)."""
    out = convert_source(head + line + "\n", planner, select=lambda fix: True)
    assert out.error is None, out.error
    return out.code.rstrip("\n").rsplit("\n", 1)[-1]


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def convert(planner: Planner) -> Callable[..., Conversion]:
    """convert(before, **options) -> Conversion, on dedented text, with the fixture rules."""

    def run(before: str, **kwargs: object) -> Conversion:
        return convert_source(dedent(before), planner, **kwargs)  # type: ignore[arg-type]

    return run
