"""``paddleport convert``: files and trees to Paddle, with a summary of what is left."""

from __future__ import annotations

import argparse
import difflib
import json
import shutil
import sys
from pathlib import Path

from paddleport.batch import FileResult, Summary, convert_many, summarise
from paddleport.files import all_files, python_files, write_atomic


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


def run_convert(args: argparse.Namespace) -> int:
    if not (args.output or args.in_place or args.diff):
        print("paddleport convert: give -o OUT, --in-place, or --diff (preview)", file=sys.stderr)
        return 2
    planned = _plan_outputs(args)
    if isinstance(planned, str):
        print(f"paddleport convert: {planned}", file=sys.stderr)
        return 2
    if args.output and not args.force:
        clash = [d for _, d in planned if d is not None and d.exists()]
        if clash:
            print(f"paddleport convert: {clash[0]} exists; pass --force to overwrite "
                  f"({len(clash)} file(s) would be replaced)", file=sys.stderr)  # fmt: skip
            return 2
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
    summary = summarise(results)
    if args.format == "json":
        json.dump(summary.as_dict(), sys.stdout, indent=1)
        print()
    else:
        print_summary(summary, file=sys.stderr if args.diff else sys.stdout)
    return 0


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


def print_summary(s: Summary, file: object = sys.stdout) -> None:
    c = s.counts
    lines = [
        f"files:               {s.files} ({s.changed} changed)",
        f"torch uses found:    {c['found']}",
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
