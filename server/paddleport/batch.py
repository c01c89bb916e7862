"""Convert many files: the engine behind ``paddleport convert`` and the workspace command.

Each file is converted independently, so a bad file costs only itself; results
carry counts for the summary rather than the converted text when not needed.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paddleport.analysis import jedi_types
from paddleport.analysis.source import SourceText
from paddleport.catalog import make_planner
from paddleport.files import ReadProblem, read_source
from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Tier


@dataclass
class FileResult:
    path: Path
    code: str | None = None  # converted text; None when the file could not be read
    original: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    unconverted: list[tuple[str, str]] = field(default_factory=list)  # (api, reason)
    review: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    problem: str | None = None  # unreadable, syntax error, or internal error

    @property
    def changed(self) -> bool:
        return self.code is not None and self.code != self.original


def convert_path(path: Path, planner: Planner, annotate: bool = False,
                 use_jedi: bool = True) -> FileResult:  # fmt: skip
    try:
        text = read_source(path)
    except ReadProblem as exc:
        return FileResult(path, problem=str(exc))
    refine = (lambda a: jedi_types.refine(a, path)) if use_jedi else None
    conv = convert_source(text, planner, annotate=annotate, refine=refine)
    result = FileResult(path, conv.code, text, conv.counts(), problem=conv.error)
    source = SourceText(text)
    for o in conv.outcomes:
        if o.use.kind.value == "import" or o.fix.is_noop:
            continue
        if not o.applied:
            result.unconverted.append((o.use.api, o.fix.message))
        elif o.fix.tier is Tier.REVIEW:
            line = source.position(o.use.focus_start)[0]
            result.review.append((line, o.fix.message))
    return result


_worker_planner: Planner | None = None


def _init_worker(extra_rule_dirs: Sequence[str]) -> None:
    global _worker_planner
    _worker_planner = make_planner(extra_rule_dirs)


def _work(args: tuple[str, bool, bool]) -> FileResult:
    assert _worker_planner is not None
    return convert_path(Path(args[0]), _worker_planner, args[1], args[2])


def convert_many(
    paths: Iterable[Path],
    *,
    jobs: int | None = None,
    annotate: bool = False,
    use_jedi: bool = True,
    extra_rule_dirs: Sequence[str] = (),
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Convert files on ``jobs`` processes (default: all cores); results in input order."""
    items = [str(p) for p in paths]
    jobs = jobs or os.cpu_count() or 1
    results: list[FileResult] = []
    if jobs == 1 or len(items) < 4:
        planner = make_planner(extra_rule_dirs)
        for item in items:
            r = convert_path(Path(item), planner, annotate, use_jedi)
            results.append(r)
            if on_result:
                on_result(r)
        return results
    # This process never imports torch, so a forked worker is safe and starts fastest.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    with cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                initargs=(tuple(extra_rule_dirs),)) as pool:  # fmt: skip
        for r in pool.map(_work, [(i, annotate, use_jedi) for i in items], chunksize=4):
            results.append(r)
            if on_result:
                on_result(r)
    return results


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    problems: list[tuple[Path, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    unconverted: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        found = self.counts["found"]
        done = self.counts["compatible"] + self.counts["exact"] + self.counts["review"]
        return 1.0 if found == 0 else done / found

    def as_dict(self) -> dict[str, object]:
        return {
            "files": self.files,
            "changed": self.changed,
            "found": self.counts["found"],
            "compatible": self.counts["compatible"],
            "exact": self.counts["exact"],
            "review": self.counts["review"],
            "manual": self.counts["manual"],
            "rate": round(self.rate, 4),
            "problems": [{"path": str(p), "message": m} for p, m in self.problems],
            "top_unconverted": [
                {"api": api, "count": n, "reason": self.reasons.get(api, "")}
                for api, n in self.unconverted.most_common(20)
            ],
        }


def summarise(results: Iterable[FileResult]) -> Summary:
    s = Summary()
    for r in results:
        s.files += 1
        s.changed += int(r.changed)
        if r.problem:
            s.problems.append((r.path, r.problem))
        s.counts.update(r.counts)
        for api, reason in r.unconverted:
            s.unconverted[api] += 1
            s.reasons.setdefault(api, reason)
    return s
