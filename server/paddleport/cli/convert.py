"""``paddleport convert``: files and trees to Paddle, with a summary of what is left.

Exit codes: 0 the converted code no longer needs torch; 3 converted, but some
file still imports or uses torch (the summary lists where); 2 usage error.
"""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import sys
from pathlib import Path

from paddleport.batch import FileResult, Summary, convert_many, summarise
from paddleport.files import all_files, python_files, write_atomic
from paddleport.verdict import MANUAL, OPTIONAL, REVIEW, Item

EXIT_TORCH_FREE = 0
EXIT_USAGE = 2
EXIT_NEEDS_TORCH = 3
REPORT_NAME = "paddleport-report.md"


class _Progress:
    """A one-line progress bar on a terminal; silent otherwise."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done = total, 0
        self.enabled = enabled and sys.stderr.isatty() and total > 1

    def step(self, result: FileResult) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                             f"{result.path.name[:30]:<30}")  # fmt: skip
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 80 + "\r")


def _plan_outputs(args: argparse.Namespace) -> list[tuple[Path, Path | None]] | str:
    """(source, destination) pairs, or an error message."""
    pairs: list[tuple[Path, Path | None]] = []
    out = Path(args.output) if args.output else None
    for raw in args.paths:
        src = Path(raw)
        if not src.exists():
            return f"{raw}: no such file or folder"
        if src.is_file():
            if out is None:
                pairs.append((src, src if args.in_place else None))
            elif len(args.paths) > 1 or (out.exists() and out.is_dir()):
                pairs.append((src, out / src.name))
            else:
                pairs.append((src, out))
        else:
            base = out if out is None or len(args.paths) == 1 else out / src.name
            for path in python_files(src):
                if base is None:
                    pairs.append((path, path if args.in_place else None))
                else:
                    pairs.append((path, base / path.relative_to(src)))
    return pairs


def _report_path(args: argparse.Namespace) -> Path | None:
    """--report FILE; by default paddleport-report.md in the output folder when a folder is converted."""
    if args.no_report:
        return None
    if args.report:
        return Path(args.report)
    if args.output and any(Path(p).is_dir() for p in args.paths):
        return Path(args.output) / REPORT_NAME
    return None


def run_convert(args: argparse.Namespace) -> int:
    if not (args.output or args.in_place or args.diff):
        print("paddleport convert: give -o OUT, --in-place, or --diff (preview)", file=sys.stderr)
        return EXIT_USAGE
    planned = _plan_outputs(args)
    if isinstance(planned, str):
        print(f"paddleport convert: {planned}", file=sys.stderr)
        return EXIT_USAGE
    report = _report_path(args)
    if args.output and not args.force:
        clash = [d for _, d in planned if d is not None and d.exists()]
        if report is not None and report.exists() and not args.report:
            clash.append(report)
        if clash:
            print(f"paddleport convert: {clash[0]} exists; pass --force to overwrite "
                  f"({len(clash)} file(s) would be replaced)", file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
    destinations = dict(planned)
    progress = _Progress(len(planned), not args.quiet and args.format == "text")
    results = convert_many([s for s, _ in planned], jobs=args.jobs, annotate=args.annotate,
                           use_jedi=args.jedi and not args.no_jedi, use_index=not args.no_index,
                           extra_rule_dirs=args.rules,
                           on_result=progress.step)  # fmt: skip
    progress.close()
    for r in results:
        dest = destinations.get(r.path)
        if args.diff and r.changed:
            assert r.original is not None and r.code is not None
            sys.stdout.writelines(difflib.unified_diff(
                r.original.splitlines(keepends=True), r.code.splitlines(keepends=True),
                f"a/{r.path}", f"b/{r.path}"))  # fmt: skip
        if dest is not None and r.code is not None and (dest != r.path or r.changed):
            write_atomic(dest, r.code)
    if args.output:
        _copy_other_files(args, destinations)
    summary = summarise(results, destinations)
    if report is not None:
        write_atomic(report, report_json(summary) if report.suffix == ".json" else report_markdown(summary))
    if args.format == "json":
        json.dump(summary.as_dict(), sys.stdout, indent=1)
        print()
    else:
        print_summary(summary, file=sys.stderr if args.diff else sys.stdout, report=report)
    return EXIT_NEEDS_TORCH if summary.needs_torch else EXIT_TORCH_FREE


def _copy_other_files(args: argparse.Namespace, written: dict[Path, Path | None]) -> None:
    """A folder converts to a folder: non-Python files come along unchanged."""
    out = Path(args.output)
    for raw in args.paths:
        src = Path(raw)
        if not src.is_dir():
            continue
        base = out if len(args.paths) == 1 else out / src.name
        for path in all_files(src):
            if path in written or path.suffix in (".py", ".pyi"):
                continue
            dest = base / path.relative_to(src)
            if dest.exists() and not args.force:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)


def _line(path: Path, item: Item) -> str:
    return f"{path}:{item.where} {item.api}: {' '.join(item.message.split())[:140]}"


def print_summary(s: Summary, file: object = sys.stdout, report: Path | None = None,
                  max_blockers: int = 30) -> None:  # fmt: skip
    """Blockers first (what still needs torch, where), the verdict, then the use-level counts."""
    lines: list[str] = []
    torch_files = s.torch_files
    if torch_files:
        lines.append(f"still need torch:    {len(torch_files)} of {s.files} files")
        blockers = [(p, i) for p in torch_files for i in s.items[p] if i.blocking]
        for path, item in blockers[:max_blockers]:
            lines.append(f"  {_line(path, item)}")
        if len(blockers) > max_blockers:
            more = f"; all in {report}" if report else "; pass --report FILE for all"
            lines.append(f"  ... and {len(blockers) - max_blockers} more{more}")
            top = ", ".join(f"{api} ×{n}" for api, n in s.blocking_apis().most_common(8))
            lines.append(f"most frequent blockers: {top}")
    lines.append(s.verdict())
    review, manual = len(s.of_kind(REVIEW)), len(s.of_kind(MANUAL))
    if report is not None:
        lines.append(f"report:              {report} ({review} to review, {manual} left as written)")
    lines.append("")
    c = s.counts
    vision = f" ({c['torchvision']} torchvision)" if c["torchvision"] else ""
    lines += [
        f"files:               {s.files} ({s.changed} changed)",
        f"torch uses found:    {c['found']}{vision}",
        f"  already Paddle:    {c['compatible']}",
        f"  converted exactly: {c['exact']}",
        f"  converted, review: {c['review']}",
        f"  left manual:       {c['manual']}",
        f"conversion rate:     {s.rate:.1%}",
    ]
    if s.unconverted:
        lines.append("top unconverted APIs:")
        for api, n in s.unconverted.most_common(10):
            lines.append(f"  {n:5d}  {api}: {s.reasons.get(api, '')[:110]}")
    if s.problems:
        lines.append(f"files with problems: {len(s.problems)}")
        for path, message in s.problems[:20]:
            lines.append(f"  {path}: {message}")
    print("\n".join(lines), file=file)  # type: ignore[call-overload]


_SECTIONS = [
    (("import", "blocking"), "Still needs torch",
     "Each of these keeps the converted code tied to torch: port it by hand, or add a rule."),
    ((MANUAL,), "Left as written",
     "Tensor methods on a receiver paddleport could not type: confirm and port by hand."),
    ((REVIEW,), "Converted, to review", "Converted, but torch and Paddle differ here in a documented way."),
    ((OPTIONAL,), "Optional torch uses",
     "Imports with a fallback (try/except ImportError) or for type checkers only, and the code that "
     "uses them: the program runs without torch, but this code only where torch is installed."),
]  # fmt: skip


def report_markdown(s: Summary) -> str:
    """Every blocker, manual and review item with its place in the converted code."""
    out = ["# paddleport conversion report", "", s.verdict(), ""]
    for kinds, title, hint in _SECTIONS:
        found = s.of_kind(*kinds)
        if not found:
            continue
        out += [f"## {title} ({len(found)})", "", hint, ""]
        for path, item in found:
            message = " ".join(item.message.split())
            out.append(f"- `{path}:{item.where}` {item.kind} `{item.api}`: {message}")
        out.append("")
    if s.problems:
        out += [f"## Files with problems ({len(s.problems)})", ""]
        out += [f"- `{path}`: {message}" for path, message in s.problems] + [""]
    c = s.counts
    out += ["## Counts", "", f"{s.files} files ({s.changed} changed); {c['found']} torch uses: "
            f"{c['compatible']} already Paddle, {c['exact']} converted exactly, {c['review']} converted "
            f"for review, {c['manual']} left manual; conversion rate {s.rate:.1%}.", ""]  # fmt: skip
    return "\n".join(out)


def report_json(s: Summary) -> str:
    data = s.as_dict()
    data["items"] = [{"path": str(p), **i.as_dict()} for p, items in s.items.items() for i in items]
    return json.dumps(data, indent=1) + "\n"
