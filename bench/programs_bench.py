"""Program-level benchmark: convert real PyTorch projects from PyPI and run them under Paddle.

    python bench/programs_bench.py [--only NAME ...] [--skip-timm] [--timeout S]

The projects are public packages fetched with `pip download --no-deps` into
build/corpus (never committed): d2l 0.17.6 (the book's torch.py, whose hand-written
Paddle twin paddle.py ships in the same wheel), x-transformers (+ its helper
torch-einops-utils), buildNanoGPT (Karpathy's build-nanogpt), autoresearch-nano,
vit-pytorch and dcgan-pytorch. Each program is a short driver in bench/programs/
that composes the package's code the way its book chapter or README does, on small
synthetic data written locally (only the download step is replaced).

The packages and the drivers are converted with `paddleport convert`, and every
program runs twice in a fresh interpreter: the original under torch, then the
conversion under paddle with torch blocked. Reported per program: the torch uses
the conversion left (driver + packages), whether it imports, runs, trains (its loss
falls) and whether its forward output matches torch's with torch's initial weights
copied in (the equivalence kernel's by-name copy with layout fixes). Then the timm
part (bench/zoo_bench.py) runs unless --skip-timm.

Results: bench/results/programs.json and a table on stdout.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import (
    CORPUS,
    RESULTS,
    ROOT,
    convert,
    first_error_line,
    pip_download,
    python_env,
    site_packages,
)

DRIVERS = ROOT / "bench" / "programs"
WORK = ROOT / "build" / "programs"

# package -> (pip spec, files or folders to convert, relative to the extracted wheel)
PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "d2l": ("d2l==0.17.6", ("d2l/__init__.py", "d2l/torch.py")),
    "x-transformers": ("x-transformers==2.31.10", ("x_transformers",)),
    "torch-einops-utils": ("torch-einops-utils==0.2.0", ("torch_einops_utils",)),
    "buildNanoGPT": ("buildnanogpt==0.1.6", ("buildNanoGPT",)),
    "autoresearch-nano": ("autoresearch-nano==1.0.0", ("autoresearch",)),
    "vit-pytorch": ("vit-pytorch==1.26.14", ("vit_pytorch",)),
    "dcgan-pytorch": ("dcgan-pytorch==0.2.0", ("dcgan_pytorch",)),
}


@dataclass(frozen=True)
class Program:
    name: str
    packages: tuple[str, ...]
    kind: str


PROGRAMS = (
    Program("d2l_lenet", ("d2l",), "CNN classifier, DataLoader, train_ch6 (SGD)"),
    Program("d2l_resnet", ("d2l",), "ResNet-18 classifier, DataLoader, train_batch_ch13 (Adam)"),
    Program("d2l_rnn_lm", ("d2l",), "RNN language model, seq data iterator, train_epoch_ch8"),
    Program("d2l_lstm_lm", ("d2l",), "LSTM language model, train_epoch_ch8"),
    Program("d2l_seq2seq", ("d2l",), "GRU encoder-decoder translation, masked loss, train_seq2seq"),
    Program("d2l_bert", ("d2l",), "BERT pretraining (Transformer encoder, MLM + NSP), DataLoader"),
    Program("d2l_gan", ("d2l",), "GAN on 2-D Gaussian data, update_D / update_G"),
    Program("xt_gpt", ("x-transformers", "torch-einops-utils"), "decoder-only Transformer LM, rotary"),
    Program("nanogpt", ("buildNanoGPT",), "GPT: AdamW param groups, cosine lr, checkpoint save/load"),
    Program("autoresearch_toy", ("autoresearch-nano",), "GPT, the package's own toy_train script"),
    Program("vit", ("vit-pytorch",), "Vision Transformer classifier (einops), DataLoader, Adam"),
    Program("dcgan", ("dcgan-pytorch",), "DCGAN generator/discriminator, BCE, Adam"),
)


STUBS = {
    # torchvision is not installable next to the CPU torch here (PyPI's wheel needs CUDA); d2l imports
    # it at module level only for datasets these programs do not use. Torch side only: the paddle
    # side blocks torchvision together with torch.
    "torch": {"torchvision/__init__.py": "from . import datasets, transforms\n",
              "torchvision/datasets.py": "", "torchvision/transforms.py": ""},
    # buildNanoGPT's data.py imports Hugging Face `datasets` and `transformers` at module level for
    # downloading FineWeb/HellaSwag and GPT-2 weights, which these programs never call.
    "both": {"datasets/__init__.py": "def load_dataset(*args, **kwargs):\n    raise RuntimeError('stub')\n",
             "transformers/__init__.py": "class GPT2LMHeadModel:\n    pass\n"},
}  # fmt: skip


def stubs(framework: str) -> list[Path]:
    """Stand-ins for download-only dependencies (see STUBS), written under build/corpus/stubs."""
    out = []
    for key in ("both", framework):
        root = CORPUS / "stubs" / key
        for rel, text in STUBS.get(key, {}).items():
            path = root / rel
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
        if key in STUBS:
            out.append(root)
    return out


def prepare_packages(names: set[str]) -> dict[str, dict[str, Any]]:
    """Fetch the packages, stage them in one tree and convert it in one run (one worker pool).

    Leftovers per package are the torch uses `paddleport check` still finds in the converted
    code, not counting the import lines (those go once the rest is converted)."""
    stage, conv = WORK / "_pkg" / "torch", WORK / "_pkg" / "paddle"
    shutil.rmtree(stage, ignore_errors=True)
    tops: dict[str, set[str]] = {}
    for name in sorted(names):
        spec, parts = PACKAGES[name]
        src = pip_download(spec)
        for part in parts:
            target = stage / part
            target.parent.mkdir(parents=True, exist_ok=True)
            if (src / part).is_dir():
                shutil.copytree(src / part, target)
            else:
                shutil.copy2(src / part, target)
            tops.setdefault(name, set()).add(part.split("/")[0])
    started = time.perf_counter()
    summary = convert(stage, conv)
    seconds = time.perf_counter() - started
    left = remaining_uses(conv)
    out: dict[str, dict[str, Any]] = {}
    for name, top in tops.items():
        mine = [d for d in left if Path(d["path"]).relative_to(conv).parts[0] in top]
        apis = collections.Counter(d["api"] for d in mine)
        out[name] = {"spec": PACKAGES[name][0], "leftovers": len(mine),
                     "top_leftovers": apis.most_common(8)}  # fmt: skip
    out["_all"] = {"summary": summary, "convert_s": round(seconds, 1)}
    (WORK / "_pkg" / "packages.json").write_text(json.dumps(out, indent=1), encoding="utf-8")
    return out


def remaining_uses(tree: Path) -> list[dict[str, Any]]:
    """`paddleport check` on converted code: the torch uses still there, except the import lines."""
    proc = subprocess.run([sys.executable, "-m", "paddleport", "check", str(tree), "--format", "json"],
                          capture_output=True, text=True, env=python_env())  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(proc.stdout or "[]")
    return [r for r in rows if " import:" not in r["message"] and "import" not in r["api"]]


def prepare_driver(program: Program) -> tuple[Path, Path, dict[str, Any]]:
    base = WORK / program.name
    shutil.rmtree(base, ignore_errors=True)
    torch_dir, paddle_dir = base / "torch", base / "paddle"
    torch_dir.mkdir(parents=True)
    shutil.copy2(DRIVERS / f"{program.name}.py", torch_dir / "program.py")
    shutil.copy2(DRIVERS / "synthetic.py", torch_dir / "synthetic.py")
    summary = convert(torch_dir, paddle_dir)
    summary["leftovers"] = len(remaining_uses(paddle_dir))
    return torch_dir, paddle_dir, summary


def d2l_oracle() -> Path:
    """d2l's hand-written Paddle twin (paddle.py in the same wheel) standing in as `d2l.torch`: running
    the converted driver on it tells a driver-conversion problem from a library-conversion one."""
    root = WORK / "_pkg" / "oracle"
    if not (root / "d2l" / "torch.py").exists():
        src = pip_download(PACKAGES["d2l"][0]) / "d2l"
        (root / "d2l").mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / "__init__.py", root / "d2l" / "__init__.py")
        shutil.copy2(src / "paddle.py", root / "d2l" / "torch.py")
    return root


def run_side(framework: str, program_dir: Path, work: Path, timeout: float,
             pkg: Path | None = None) -> dict[str, Any]:  # fmt: skip
    pkg = pkg or WORK / "_pkg" / framework
    paths = [program_dir, pkg, *stubs(framework)]
    cmd = [sys.executable, str(ROOT / "bench" / "program_runner.py"), framework, str(program_dir), str(work),
           str(pkg)]  # fmt: skip
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=python_env(*paths))
        stderr = proc.stderr
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return {"error": f"timeout after {timeout:.0f} s", "stages": {}, "stderr": err[-1500:]}
    result_file = work / f"{framework}.json"
    if not result_file.exists():
        return {"error": first_error_line(stderr) or f"exit {proc.returncode}", "stages": {},
                "stderr": stderr[-1500:]}  # fmt: skip
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return result


def run_program(program: Program, packages: dict[str, dict[str, Any]], timeout: float) -> dict[str, Any]:
    torch_dir, paddle_dir, driver_summary = prepare_driver(program)
    work = WORK / program.name / "run"
    work.mkdir(parents=True, exist_ok=True)
    torch_run = run_side("torch", torch_dir, work, timeout)
    paddle_run = run_side("paddle", paddle_dir, work, timeout)
    oracle: dict[str, Any] = {}
    if "d2l" in program.packages:
        oracle_work = work / "oracle"
        oracle_work.mkdir(exist_ok=True)
        for name in ("torch_state.pkl", "torch_out.pkl"):
            if (work / name).exists():
                shutil.copy2(work / name, oracle_work / name)
        oracle = run_side("paddle", paddle_dir, oracle_work, timeout, d2l_oracle())
    left_pkg = sum(packages[p]["leftovers"] for p in program.packages)
    stages = paddle_run.get("stages", {})
    return {
        "program": program.name,
        "packages": [packages[p]["spec"] for p in program.packages],
        "kind": program.kind,
        "leftovers_driver": driver_summary["leftovers"],
        "leftovers_packages": left_pkg,
        "driver_top_unconverted": driver_summary.get("top_unconverted", [])[:5],
        "torch": torch_run,
        "paddle": paddle_run,
        "imports": bool(stages.get("import")),
        "runs": bool(stages.get("train")),
        "trains": bool(paddle_run.get("trains")),
        "matches": paddle_run.get("matches"),
        "torch_trains": bool(torch_run.get("trains")),
        "with_d2l_paddle_py": oracle,
    }


def _mark(value: Any) -> str:
    return {True: "yes", False: "no", None: "–"}.get(value, str(value))


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'program':18} {'left':>9} {'imports':7} {'runs':4} {'trains':6} {'matches':7} "
          f"{'torch':5}  first error on the paddle side")  # fmt: skip
    for r in rows:
        p = r["paddle"]
        err = p.get("error", "")
        where = p.get("where", "")
        torch_ok = "ok" if r["torch"].get("stages", {}).get("train") else "FAIL"
        left = f"{r['leftovers_driver']:>3}+{r['leftovers_packages']:<5}"
        print(f"{r['program']:18} {left} {_mark(r['imports']):7} "
              f"{_mark(r['runs']):4} {_mark(r['trains']):6} {_mark(r['matches']):7} {torch_ok:5}  "
              f"{err[:110]}{'  @ ' + where[:120] if where else ''}")  # fmt: skip
    oracle = [r for r in rows if r.get("with_d2l_paddle_py")]
    if oracle:
        print("\nthe converted d2l drivers on d2l's own hand-written paddle.py (the library's twin):")
        for r in oracle:
            o = r["with_d2l_paddle_py"]
            st = o.get("stages", {})
            where = f"  @ {o['where'][:100]}" if o.get("where") else ""
            print(f"  {r['program']:18} imports {_mark(bool(st.get('import'))):3} "
                  f"runs {_mark(bool(st.get('train'))):3} trains {_mark(bool(o.get('trains'))):3} "
                  f"matches {_mark(o.get('matches')):3}  {o.get('error', '')[:100]}{where}")  # fmt: skip
    n = len(rows)
    print(f"\n{n} programs: imports {sum(r['imports'] for r in rows)}, runs {sum(r['runs'] for r in rows)}, "
          f"trains {sum(r['trains'] for r in rows)}, forward matches torch "
          f"{sum(r['matches'] is True for r in rows)}")  # fmt: skip


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--only", nargs="*", default=None, help="program names")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per program and framework")
    parser.add_argument("--skip-timm", action="store_true")
    parser.add_argument("--no-convert", action="store_true",
                        help="reuse the packages converted by the last run (build/programs/_pkg)")
    parser.add_argument("--json", type=Path, default=RESULTS / "programs.json")
    args = parser.parse_args()
    programs = [p for p in PROGRAMS if not args.only or p.name in args.only]
    site_packages()
    started = time.perf_counter()
    saved = WORK / "_pkg" / "packages.json"
    if args.no_convert and saved.exists():
        packages = json.loads(saved.read_text(encoding="utf-8"))
    else:
        packages = prepare_packages({name for p in programs for name in p.packages})
    s = packages["_all"]["summary"]
    print(f"converted {len(packages) - 1} packages: {s['files']} files, {s['found']} torch uses, "
          f"rate {s['rate']:.1%}, {packages['_all']['convert_s']} s")  # fmt: skip
    for name, info in packages.items():
        if name != "_all":
            print(f"  {info['spec']:28} torch uses left in the converted code: {info['leftovers']:4}  "
                  f"{', '.join(f'{a} {n}' for a, n in info['top_leftovers'][:4])}")  # fmt: skip
    rows = []
    for program in programs:
        row = run_program(program, packages, args.timeout)
        rows.append(row)
        p = row["paddle"]
        print(f"  {program.name}: torch {row['torch'].get('wall_s', '?')} s, paddle {p.get('wall_s', '?')} s"
              f"{', ' + p['error'][:120] if p.get('error') else ''}", flush=True)  # fmt: skip
    print()
    print_table(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"packages": packages, "programs": rows, "wall_s": round(time.perf_counter() - started, 1)}
    args.json.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    if not args.skip_timm:
        zoo = [sys.executable, str(ROOT / "bench" / "zoo_bench.py")]
        zoo += ["--no-convert"] if args.no_convert else []
        subprocess.run(zoo, check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
