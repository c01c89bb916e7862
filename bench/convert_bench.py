"""Benchmark the converter on timm's models (downloaded from PyPI, never committed).

    python bench/convert_bench.py [--corpus DIR] [--jobs N]

Reports torch uses found, conversion rate, wall time and peak memory of
`paddleport convert` on timm/models, and the analysis time per 1,000 lines
(the editor's typing path) — the numbers the README quotes.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tokenize
import zipfile
from pathlib import Path

from paddleport.analysis.finder import analyze
from paddleport.catalog import load_catalog, make_planner
from paddleport.rewrite.convert import convert_source

ROOT = Path(__file__).resolve().parent.parent
TIMM = "timm==1.0.31"


def fetch_timm(cache: Path) -> Path:
    models = cache / "timm" / "models"
    if models.is_dir():
        return models
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", TIMM, "-d", str(cache)],
                   check=True)  # fmt: skip
    wheel = next(cache.glob("timm-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(cache)
    return models


def thousand_line_file(models: Path) -> str:
    """At least 1,000 lines (whole top-level statements) of timm's vision_transformer.py."""
    text = (models / "vision_transformer.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    cut = min(n.end_lineno or 0 for n in tree.body if (n.end_lineno or 0) >= 1000)
    return "".join(text.splitlines(keepends=True)[:cut])


def time_analysis(models: Path) -> dict[str, float]:
    rules = load_catalog()
    sample = thousand_line_file(models)
    analyze(sample, rules)  # warm
    runs = []
    for _ in range(30):
        t = time.perf_counter()
        analyze(sample, rules)
        runs.append(time.perf_counter() - t)
    total_lines, total_s = 0, 0.0
    for path in sorted(models.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        t = time.perf_counter()
        analyze(text, rules)
        total_s += time.perf_counter() - t
        total_lines += text.count("\n")
    return {
        "sample_lines": sample.count("\n"),
        "analysis_ms_1000_line_file_median": round(statistics.median(runs) * 1000, 1),
        "analysis_ms_per_1000_lines_corpus": round(total_s / total_lines * 1000 * 1000, 1),
        "corpus_lines": total_lines,
    }


def run_convert(models: Path, jobs: int | None, *extra: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="paddleport-bench-") as tmp:
        cmd = [sys.executable, "-m", "paddleport", "convert", str(models), "-o", f"{tmp}/out",
               "--format", "json"]  # fmt: skip
        if jobs:
            cmd += ["--jobs", str(jobs)]
        cmd += list(extra)
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode not in (0, 3):  # 3: converted, but some file still needs torch
            raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        summary = json.loads(proc.stdout)
        unparsable, comments_changed, not_idempotent = [], [], []
        planner = make_planner()
        for path in Path(tmp, "out").rglob("*.py"):
            out = path.read_text(encoding="utf-8")
            try:
                ast.parse(out)
            except SyntaxError:
                unparsable.append(path.name)
                continue
            original = (models / path.relative_to(Path(tmp, "out"))).read_text(encoding="utf-8")
            if _comments(original) != _comments(out):
                comments_changed.append(path.name)
            if convert_source(out, planner).code != out:
                not_idempotent.append(path.name)
    return {
        "summary": summary,
        "wall_s": round(wall, 2),
        "peak_rss_mb_largest_process": round(peak_kb / 1024, 1),
        "unparsable_outputs": unparsable,
        "comments_changed": comments_changed,
        "not_idempotent": not_idempotent,
    }


def _comments(text: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [t.string for t in tokens if t.type == tokenize.COMMENT]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=ROOT / "build" / "corpus")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "convert.json")
    args = parser.parse_args()
    models = fetch_timm(args.corpus)
    analysis = time_analysis(models)
    alone = run_convert(models, args.jobs, "--no-index")
    conv = run_convert(models, args.jobs)
    s = conv["summary"]
    assert isinstance(s, dict)
    print(f"timm/models: {s['files']} files, {analysis['corpus_lines']} lines")
    print(f"torch uses found:            {s['found']}")
    print(f"  already Paddle:            {s['compatible']}")
    print(f"  converted exactly:         {s['exact']}")
    print(f"  converted, for review:     {s['review']}")
    print(f"  left manual:               {s['manual']}")
    print(f"conversion rate:             {s['rate']:.1%}")
    print(f"files that still need torch: {len(s['torch_files'])} ({s['blockers']} blockers)")
    print(f"outputs that do not parse:   {len(conv['unparsable_outputs'])}")  # type: ignore[arg-type]
    print(f"outputs whose comments differ from the input: {len(conv['comments_changed'])}")  # type: ignore[arg-type]
    print(f"outputs that change when converted again:     {len(conv['not_idempotent'])}")  # type: ignore[arg-type]
    print(f"convert wall time:           {conv['wall_s']} s "
          f"(each file alone, --no-index: {alone['wall_s']} s, rate {alone['summary']['rate']:.1%})")  # type: ignore[index]
    print(f"convert peak RSS (largest process): {conv['peak_rss_mb_largest_process']} MB "
          f"({os.cpu_count()} worker processes)")
    print(f"analysis, {analysis['sample_lines']}-line file (median of 30): "
          f"{analysis['analysis_ms_1000_line_file_median']} ms")  # fmt: skip
    print(f"analysis per 1,000 lines over the corpus: {analysis['analysis_ms_per_1000_lines_corpus']} ms")
    print("top unconverted:")
    for row in s["top_unconverted"][:10]:
        print(f"  {row['count']:5d}  {row['api']}: {row['reason'][:100]}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"analysis": analysis, **conv, "without_index": alone}, indent=1),
                         encoding="utf-8")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
