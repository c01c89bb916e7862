"""Convert many files: the engine behind ``paddleport convert`` and the workspace command.

Each file is converted independently, so a bad file costs only itself; results
carry counts for the summary rather than the converted text when not needed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paddleport.analysis import jedi_types
from paddleport.analysis.finder import Analysis, analyze
from paddleport.analysis.project import ModuleSummary, ProjectIndex, Recorder, module_name, project_files
from paddleport.analysis.uses import Confidence
from paddleport.catalog import make_planner
from paddleport.files import ReadProblem, read_source
from paddleport.rewrite.convert import Conversion, convert_source
from paddleport.rewrite.fixes import Planner
from paddleport.verdict import BLOCKING, IMPORT, MANUAL, OPTIONAL, REVIEW, Item, file_items, needs_torch


@dataclass
class FileResult:
    path: Path
    code: str | None = None  # converted text; None when the file could not be read
    original: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    unconverted: list[tuple[str, str]] = field(default_factory=list)  # (api, reason)
    items: list[Item] = field(default_factory=list)  # blockers, manual, review: in the converted code
    problem: str | None = None  # unreadable, syntax error, or internal error

    @property
    def changed(self) -> bool:
        return self.code is not None and self.code != self.original

    @property
    def needs_torch(self) -> bool:
        return needs_torch(self.items)


def file_result(path: Path, conv: Conversion, planner: Planner) -> FileResult:
    """What the summary needs of one conversion: counts, unconverted uses, the verdict's items."""
    result = FileResult(path, conv.code, conv.original, conv.counts(), problem=conv.error)
    for o in conv.outcomes:
        if o.use.kind.value != "import" and not o.fix.is_noop and not o.applied:
            result.unconverted.append((o.use.api, o.fix.message))
    result.items = file_items(conv, planner)
    return result


def convert_path(path: Path, planner: Planner, annotate: bool = False, use_jedi: bool = False,
                 index: ProjectIndex | None = None) -> FileResult:  # fmt: skip
    """Convert one file; ``index`` adds what the rest of the project knows, ``use_jedi`` asks jedi too."""
    try:
        text = read_source(path)
    except ReadProblem as exc:
        return FileResult(path, problem=str(exc))
    facts = index.facts(module_name(path)[0]) if index is not None else None
    return _convert_text(path, text, planner, annotate, use_jedi, analyze(text, planner.rules, project=facts))


def _convert_text(path: Path, text: str, planner: Planner, annotate: bool, use_jedi: bool,
                  analysis: Analysis) -> FileResult:  # fmt: skip
    refine = (lambda a: jedi_types.refine(a, path)) if use_jedi else None
    return file_result(path, convert_source(text, planner, annotate=annotate, refine=refine,
                                            analysis=analysis), planner)  # fmt: skip


def summarize_path(path: Path, planner: Planner, convert: bool = False, annotate: bool = False,
                   use_jedi: bool = False) -> tuple[ModuleSummary | None, FileResult | None]:  # fmt: skip
    """Pass one of a project conversion: what this module tells the others.

    With ``convert``, a file whose receivers are all typed already is converted
    too: the project index could not change its result, so pass two skips it.
    """
    try:
        text = read_source(path)
    except ReadProblem as exc:
        return None, FileResult(path, problem=str(exc)) if convert else None
    name, is_package = module_name(path)
    recorder = Recorder(name, is_package)
    analysis = analyze(text, planner.rules, project=recorder)
    summary = recorder.summary if analysis.syntax_error is None else None
    # a star import may bind another module's torch names, which only the index knows
    if convert and not recorder.summary.star_imports and not any(u.confidence is Confidence.LOW
                                                                 for u in analysis.uses):  # fmt: skip
        return summary, _convert_text(path, text, planner, annotate, use_jedi, analysis)
    return summary, None


def build_index(paths: Sequence[Path], planner: Planner) -> ProjectIndex:
    """The project index of ``paths``, in this process; the rest of their packages is read on demand.

    For few files (one file converted inside a large package, the editor's workspace
    command): a module of the package is read only when a name is resolved through it,
    so calls from elsewhere in the package are not seen.
    """
    extra = {module_name(p)[0]: p for p in project_files(paths)}

    def load(module: str) -> ModuleSummary | None:
        path = extra.pop(module, None)
        return summarize_path(path, planner)[0] if path is not None else None

    return ProjectIndex((s for s in (summarize_path(p, planner)[0] for p in paths) if s is not None), load)


# The planner is set in the parent before the pools fork, so forked workers inherit it
# instead of reloading the rules (most of a worker's start-up); the index comes through
# the initializer, which a forked worker receives without pickling.
_worker_planner: Planner | None = None
_worker_index: ProjectIndex | None = None


# A file's analysis and rewrite allocate a few hundred thousand short-lived objects (ast
# and libcst nodes) and no cycles worth chasing: with the default thresholds the collector
# runs full scans of the rules and trees so often that it takes a third of the time.
_GC_THRESHOLD = (50_000, 20, 20)


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """Collect young objects less often while converting; the caller's settings come back after."""
    before = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _init_worker(extra_rule_dirs: Sequence[str], index: ProjectIndex | None) -> None:
    global _worker_planner, _worker_index
    if _worker_planner is None:  # spawned, not forked
        _worker_planner = make_planner(extra_rule_dirs)
    _worker_index = index
    # the rules and index live as long as the worker: keep them out of the collector's scans
    gc.set_threshold(*_GC_THRESHOLD)
    gc.freeze()


def _summarize(args: tuple[str, bool, bool, bool]) -> tuple[ModuleSummary | None, FileResult | None]:
    assert _worker_planner is not None
    return summarize_path(Path(args[0]), _worker_planner, *args[1:])


def _work(args: tuple[str, bool, bool]) -> FileResult:
    assert _worker_planner is not None
    return convert_path(Path(args[0]), _worker_planner, args[1], args[2], _worker_index)


def convert_many(
    paths: Iterable[Path],
    *,
    jobs: int | None = None,
    annotate: bool = False,
    use_jedi: bool = False,
    use_index: bool = True,
    extra_rule_dirs: Sequence[str] = (),
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Convert files on ``jobs`` processes (default: all cores); results in input order.

    With ``use_index`` (the default) a first pass reads every module of the project
    (the files and the rest of their packages) into a ``ProjectIndex`` that the
    second pass, the conversion, consults for receivers a file cannot type alone.
    """
    with _few_collections():
        return _convert_many(list(paths), jobs, annotate, use_jedi, use_index, extra_rule_dirs, on_result)


def _convert_many(paths: list[Path], jobs: int | None, annotate: bool, use_jedi: bool, use_index: bool,
                  extra_rule_dirs: Sequence[str],
                  on_result: Callable[[FileResult], None] | None) -> list[FileResult]:  # fmt: skip
    global _worker_planner, _worker_index
    items = [str(p) for p in paths]
    jobs = jobs or os.cpu_count() or 1
    results: list[FileResult] = []
    planner = make_planner(extra_rule_dirs)
    if jobs == 1 or len(items) < 4:
        index = build_index([Path(i) for i in items], planner) if use_index else None
        for item in items:
            r = convert_path(Path(item), planner, annotate, use_jedi, index)
            results.append(r)
            if on_result:
                on_result(r)
        return results
    # This process never imports torch, so a forked worker is safe and starts fastest.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    _worker_planner = planner if method == "fork" else None
    done: dict[str, FileResult] = {}
    try:
        index = None
        if use_index:
            extra = [str(p) for p in project_files(Path(i) for i in items)]
            tasks = [(i, True, annotate, use_jedi) for i in items] + [(e, False, False, False) for e in extra]
            tasks.sort(key=lambda t: -_size(t[0]))  # largest first: no straggler at the end
            summaries: list[ModuleSummary] = []
            with cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                        initargs=(tuple(extra_rule_dirs), None)) as pool:  # fmt: skip
                for (path, *_), (summary, result) in zip(tasks, pool.map(_summarize, tasks),
                                                         strict=True):  # fmt: skip
                    if summary is not None:
                        summaries.append(summary)
                    if result is not None:
                        done[path] = result
                        if on_result:
                            on_result(result)
            index = ProjectIndex(summaries)
        rest = sorted(((i, annotate, use_jedi) for i in items if i not in done), key=lambda t: -_size(t[0]))
        with cf.ProcessPoolExecutor(jobs, mp_context=ctx, initializer=_init_worker,
                                    initargs=(tuple(extra_rule_dirs), index)) as pool:  # fmt: skip
            for (path, *_), r in zip(rest, pool.map(_work, rest), strict=True):
                done[path] = r
                if on_result:
                    on_result(r)
    finally:
        _worker_planner, _worker_index = None, None
    results.extend(done[i] for i in items)
    return results


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    problems: list[tuple[Path, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    unconverted: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, str] = field(default_factory=dict)
    items: dict[Path, list[Item]] = field(default_factory=dict)  # per file (as shown), in order
    changed_files: set[Path] = field(default_factory=set)
    file_counts: dict[Path, dict[str, int]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        found = self.counts["found"]
        done = self.counts["compatible"] + self.counts["exact"] + self.counts["review"]
        return 1.0 if found == 0 else done / found

    @property
    def torch_files(self) -> list[Path]:
        """Files that still need torch after the conversion."""
        return [p for p, items in self.items.items() if needs_torch(items)]

    @property
    def needs_torch(self) -> bool:
        return bool(self.torch_files)

    def of_kind(self, *kinds: str) -> list[tuple[Path, Item]]:
        return [(p, i) for p, items in self.items.items() for i in items if i.kind in kinds]

    def blocking_apis(self) -> Counter[str]:
        """How often each torch API still blocks (imports not counted)."""
        return Counter(i.api for _, i in self.of_kind(BLOCKING))

    def verdict(self) -> str:
        """One plain sentence: does the converted project still need torch?"""
        n = len(self.torch_files)
        if n:
            uses = len(self.of_kind(BLOCKING))
            imports = _plural(len(self.of_kind(IMPORT)), "import")
            return (f"The converted project will NOT run without torch: {n} of {_plural(self.files, 'file')} "
                    f"still import torch ({imports}, {_plural(uses, 'torch use')} left).")  # fmt: skip
        optional = len(self.of_kind(OPTIONAL))
        return "No file imports or uses torch any more." + (
            f" ({_plural(optional, 'optional use')} of torch remain: imports with a fallback or for type "
            "checkers only, and code that runs only when they succeed.)" if optional else ""
        )

    def as_dict(self) -> dict[str, object]:
        def listed(path: Path, items: list[Item]) -> list[dict[str, object]]:
            return [{"path": str(path), **i.as_dict()} for i in items]

        return {
            "needs_torch": self.needs_torch,
            "verdict": self.verdict(),
            "torch_files": [self._torch_file(p) for p in self.torch_files],
            "blockers": sum(1 for items in self.items.values() for i in items if i.blocking),
            "blocking_apis": [{"api": a, "count": n} for a, n in self.blocking_apis().most_common(20)],
            "optional": [d for p, i in self.of_kind(OPTIONAL) for d in listed(p, [i])],
            "review_items": len(self.of_kind(REVIEW)),
            "manual_items": len(self.of_kind(MANUAL)),
            "files": self.files,
            "changed": self.changed,
            "found": self.counts["found"],
            "torchvision": self.counts["torchvision"],
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
            "per_file": [self._per_file(p) for p in self.items],
        }

    def _torch_file(self, path: Path) -> dict[str, object]:
        items = self.items[path]
        return {"path": str(path), "imports": [i.as_dict() for i in items if i.kind == IMPORT],
                "blockers": [i.as_dict() for i in items if i.kind == BLOCKING]}  # fmt: skip

    def _per_file(self, path: Path) -> dict[str, object]:
        items, counts = self.items[path], self.file_counts[path]
        return {
            "path": str(path),
            "changed": path in self.changed_files,
            "needs_torch": needs_torch(items),
            **{k: counts.get(k, 0) for k in ("found", "exact", "review", "manual")},
            "blockers": sum(1 for i in items if i.blocking),
            "review_items": sum(1 for i in items if i.kind == REVIEW),
            "manual_items": sum(1 for i in items if i.kind == MANUAL),
        }


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summarise(results: Iterable[FileResult], shown: Mapping[Path, Path | None] | None = None) -> Summary:
    """Totals and per-file verdicts; ``shown`` names a file by its output path when it has one."""
    s = Summary()
    for r in results:
        path = (shown or {}).get(r.path) or r.path
        s.files += 1
        s.changed += int(r.changed)
        if r.changed:
            s.changed_files.add(path)
        if r.problem:
            s.problems.append((r.path, r.problem))
        s.counts.update(r.counts)
        s.file_counts[path] = r.counts
        s.items[path] = r.items
        for api, reason in r.unconverted:
            s.unconverted[api] += 1
            s.reasons.setdefault(api, reason)
    return s
