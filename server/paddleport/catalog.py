"""The rule catalogue as the CLI and language server use it: built-in rules plus project folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from paddleport.rewrite.fixes import Planner
from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import RuleSet, load_rules

PROJECT_RULES = Path(".paddleport") / "rules"


def project_rule_dir(start: Path | None = None) -> Path | None:
    """The nearest ``.paddleport/rules`` folder at or above ``start`` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_RULES
        if candidate.is_dir():
            return candidate
    return None


def load_catalog(extra_dirs: Iterable[Path | str] = (), *, discover: bool = False) -> RuleSet:
    """Built-in rules, then a discovered ``.paddleport/rules`` (when asked), then ``extra_dirs``."""
    dirs = [Path(d) for d in extra_dirs]
    found = project_rule_dir() if discover else None
    if found is not None and found.resolve() not in {d.resolve() for d in dirs}:
        dirs.insert(0, found)
    return load_rules(dirs, known_transforms=TRANSFORMS.keys())


def make_planner(extra_dirs: Iterable[Path | str] = (), *, discover: bool = False) -> Planner:
    return Planner(load_catalog(extra_dirs, discover=discover))
