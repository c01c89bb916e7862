"""Shared plumbing for the program-level benchmarks: fetch public packages, convert, run.

Everything downloaded lands in build/corpus (gitignored, never committed):
`pip download --no-deps` of the chosen packages, extracted, plus a `site/` folder
with the pure runtime dependencies those packages import (matplotlib, pandas, einops,
...), installed with `pip install --no-deps --target` so the shared virtualenv and
its numpy stay untouched. The converted code runs in a fresh interpreter with
torch made unimportable by the kernel's own import blocker.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "build" / "corpus"
RESULTS = ROOT / "bench" / "results"
SERVER = ROOT / "server"

# Runtime dependencies of the chosen packages that the project venv lacks (pure or
# self-contained wheels; numpy, torch and paddle come from the venv).
SITE_DEPS = (
    "matplotlib", "contourpy", "cycler", "fonttools", "kiwisolver", "pyparsing", "pandas", "pytz",
    "requests", "urllib3", "charset-normalizer", "einops", "einx", "loguru", "tiktoken", "regex",
    "huggingface_hub", "tqdm", "frozendict",
)  # fmt: skip


def pip_download(spec: str) -> Path:
    """`pip download --no-deps SPEC` into build/corpus/wheels; extract it once; return the tree."""
    wheels = CORPUS / "wheels"
    name = spec.split("==")[0].replace("-", "_").lower()
    version = spec.split("==")[1] if "==" in spec else ""
    dest = CORPUS / "src" / (f"{name}-{version}" if version else name)
    if dest.is_dir():
        return dest
    wheels.mkdir(parents=True, exist_ok=True)
    before = set(wheels.iterdir())
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", spec, "-d", str(wheels)],
                   check=True, capture_output=True)  # fmt: skip
    candidates = [p for p in wheels.iterdir() if p.name.split("-")[0].lower().replace(".", "_") == name]
    new = [p for p in candidates if p not in before] or candidates
    archive = max(new, key=lambda p: (version in p.name, p.stat().st_mtime))
    tmp = dest.with_suffix(".tmp")
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(tmp, filter="data")
    tmp.rename(dest)
    return dest


def site_packages() -> Path:
    """The extra runtime dependencies, installed once next to the corpus."""
    site = CORPUS / "site"
    stamp = site / ".installed"
    if stamp.exists():
        return site
    site.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                    *SITE_DEPS], check=True, capture_output=True)  # fmt: skip
    stamp.write_text("\n".join(SITE_DEPS), encoding="utf-8")
    return site


def convert(src: Path, out: Path, *extra: str) -> dict[str, Any]:
    """`paddleport convert SRC -o OUT --format json`; the summary as a dict."""
    cmd = [sys.executable, "-m", "paddleport", "convert", str(src), "-o", str(out), "--format", "json",
           "--force", *extra]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=python_env())
    if proc.returncode not in (0, 3):  # 3: converted, but some file still needs torch
        raise RuntimeError(f"convert {src} failed: {proc.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(proc.stdout)
    return summary


def leftovers(summary: dict[str, Any]) -> int:
    """Torch uses the conversion left as written (manual or without a rule)."""
    return int(summary.get("manual", 0))


def python_env(*paths: Path) -> dict[str, str]:
    """Environment for a child interpreter: our server package, then PATHS, then the extra deps."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENBLAS_NUM", "OMP_NUM"))}
    extra = [str(SERVER), *map(str, paths)]
    site = CORPUS / "site"
    if site.is_dir():
        extra.append(str(site))
    env["PYTHONPATH"] = os.pathsep.join(extra)
    env.setdefault("GLOG_minloglevel", "2")
    env["MPLBACKEND"] = "Agg"
    env["PYTHONWARNINGS"] = "ignore"
    env["HF_HUB_OFFLINE"] = "1"
    env["OMP_NUM_THREADS"] = "1"  # 2 cores shared: one thread per framework process runs steadier
    return env


def first_error_line(text: str) -> str:
    """The exception line of a traceback (the last line that looks like `Type: message`)."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        head = ln.split(":", 1)[0].strip()
        if head and (head.endswith(("Error", "Exception", "Exit", "Interrupt")) or head == "AssertionError"):
            return ln.strip()[:300]
    return lines[-1].strip()[:300] if lines else ""


def cause(row: dict[str, Any]) -> str:
    """A failure's first error line with numbers and quoted names blurred, to group alike failures."""
    err = re.sub(r"\d+", "N", row.get("error", ""))
    return re.sub(r"'[^']*'", "'…'", err)[:160]


def print_failures(rows: list[dict[str, Any]], name_key: str) -> None:
    """The failed rows grouped by :func:`cause`, most common first, with an example and the names."""
    groups: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for r in rows:
        if r.get("error"):
            groups[cause(r)].append(r)
    for text, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(members):3d}  [{members[0].get('stage')}] {text}")
        print(f"       e.g. {members[0][name_key]}: {members[0].get('where', '')[:150]}")
        print(f"       {', '.join(m[name_key] for m in members[:12])}")
