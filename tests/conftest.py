"""Shared fixtures.

Engine tests run against a small, fixed rule set (tests/fixtures/rules) so they
specify the converter's behaviour independently of the shipped catalogue;
tests of the shipped rules use ``shipped_rules``.
"""

from __future__ import annotations

import subprocess
import sys
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


# Run code in a fresh interpreter in which `import torch` (and any torch submodule) fails, as a
# converted program must run: one blocker for every test that proves that.
BLOCK_TORCH = """
import sys, warnings
from importlib.abc import MetaPathFinder

class BlockTorch(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 'torch':
            raise ImportError('torch is blocked: ' + name)

sys.meta_path.insert(0, BlockTorch())
warnings.filterwarnings('ignore')
"""


def run_without_torch(code: str, cwd: Path, *args: str, timeout: float = 600,
                      block: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python -c code`` in ``cwd`` with torch unimportable (``block=False``: the same, importable)."""
    return subprocess.run([sys.executable, "-c", (BLOCK_TORCH if block else "") + code, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={"GLOG_minloglevel": "2", "PATH": "/usr/bin:/bin"})  # fmt: skip
