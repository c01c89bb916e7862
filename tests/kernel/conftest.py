"""One warm kernel for all equivalence tests (starting one costs ~3 s; a check ~50 ms)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paddleport.kernel.check import Options, check_target
from paddleport.kernel.session import KernelSession
from paddleport.rewrite.fixes import Planner
from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import load_rules

RULES = Path(__file__).parent / "rules"

WRONG_RULES = """\
[[rule]]
api = "torch.exp"
paddle = "paddle.expm1"

[[rule]]
api = "torch.tanh"
paddle = "paddle.no_such_tanh"
"""


@pytest.fixture(scope="session")
def kernel() -> Iterator[KernelSession]:
    session = KernelSession()
    yield session
    session.shutdown()


def planner_for(*folders: Path) -> Planner:
    """A fixed rule set (tests/kernel/rules, plus ``folders``) so catalogue edits cannot move tests."""
    rules = load_rules([RULES, *folders], known_transforms=TRANSFORMS.keys(), include_builtin=False)
    assert not rules.errors, [str(e) for e in rules.errors]
    return Planner(rules)


@pytest.fixture(scope="session")
def equiv_planner() -> Planner:
    return planner_for()


@pytest.fixture(scope="session")
def wrong_rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wrong_rules")
    (folder / "wrong.toml").write_text(WRONG_RULES)
    return folder


@pytest.fixture(scope="session")
def wrong_planner(wrong_rules: Path) -> Planner:
    return planner_for(wrong_rules)


@pytest.fixture
def equiv(kernel: KernelSession, equiv_planner: Planner, tmp_path: Path) -> Callable[..., dict[str, Any]]:
    """equiv(source, target, planner=None, **options) -> result dict, via the shared kernel."""

    def run(source: str, target: str, planner: Planner | None = None, **options: Any) -> dict[str, Any]:
        text = textwrap.dedent(source).lstrip("\n")
        path = tmp_path / "user_code.py"
        path.write_text(text)
        return check_target(kernel, text, str(path), target, planner or equiv_planner, Options(**options))

    return run
