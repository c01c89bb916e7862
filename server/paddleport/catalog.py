"""The rule catalogue as the CLI and language server use it: built-in rules plus project folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from paddleport.rewrite.fixes import Planner
from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import RuleSet, load_rules


def load_catalog(extra_dirs: Iterable[Path | str] = ()) -> RuleSet:
    return load_rules([Path(d) for d in extra_dirs], known_transforms=TRANSFORMS.keys())


def make_planner(extra_dirs: Iterable[Path | str] = ()) -> Planner:
    return Planner(load_catalog(extra_dirs))
