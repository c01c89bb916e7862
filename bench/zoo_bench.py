"""timm zoo benchmark: convert the whole timm package, then build and run architectures under Paddle.

    python bench/zoo_bench.py [--models NAME ...] [--no-convert]

timm 1.0.31 is fetched with `pip download --no-deps` into build/corpus (never
committed), the whole package is converted with `paddleport convert`, and in a
fresh interpreter with torch blocked each architecture is imported, built with
`timm.create_model(name)` (random init: weights are checked elsewhere) and run
forward on one random image of its default input size. An architecture passes when
the output has shape [1, num_classes] and is finite. Failures are grouped by their
first error line.

Results: bench/results/zoo.json and a summary on stdout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import RESULTS, ROOT, convert, pip_download, print_failures, python_env, site_packages

TIMM = "timm==1.0.31"
OUT = ROOT / "build" / "zoo"

# Small variants across families (timm 1.0.31 names).
MODELS = (
    "resnet18", "resnet26d", "resnext26ts", "seresnext26d_32x4d", "resnest14d", "res2net50_14w_8s",
    "skresnet18", "densenet121", "vgg11", "regnetx_002", "regnety_002", "efficientnet_b0",
    "efficientnet_lite0", "efficientnetv2_rw_t", "mobilenetv2_050", "mobilenetv3_small_050",
    "mobilenetv4_conv_small", "ghostnet_100", "ghostnetv2_100", "mixnet_s", "mnasnet_100", "rexnet_100",
    "lcnet_050", "fbnetc_100", "tinynet_e", "hardcorenas_a", "convnext_atto", "convnextv2_atto",
    "vit_tiny_patch16_224", "deit_tiny_patch16_224", "deit_tiny_distilled_patch16_224",
    "swin_tiny_patch4_window7_224", "swinv2_tiny_window8_256", "beit_base_patch16_224",
    "eva02_tiny_patch14_224", "maxvit_rmlp_nano_rw_256", "coatnet_nano_rw_224", "levit_128s",
    "mobilevit_xxs", "mobilevitv2_050", "efficientformer_l1", "efficientformerv2_s0", "poolformer_s12",
    "poolformerv2_s12", "repvgg_a0", "dla34", "hrnet_w18_small", "inception_v3", "xception41",
    "cspresnet50", "cspdarknet53", "dpn68", "fastvit_t8", "selecsls42b", "hgnet_tiny", "hgnetv2_b0",
    "eca_nfnet_l0", "gernet_s", "mixer_s32_224", "resmlp_12_224", "gmlp_ti16_224", "cait_xxs24_224",
    "crossvit_tiny_240", "pit_ti_224", "pvt_v2_b0", "visformer_tiny", "xcit_nano_12_p16_224",
    "coat_lite_tiny", "convit_tiny", "edgenext_xx_small", "efficientvit_b0", "efficientvit_m0",
    "tiny_vit_5m_224", "sequencer2d_s", "inception_next_atto", "focalnet_tiny_srf", "davit_tiny",
    "gcvit_xxtiny", "mvitv2_tiny", "hiera_tiny_224", "tresnet_m", "repghostnet_050", "starnet_s1",
)  # fmt: skip


def fetch_and_convert(force: bool) -> tuple[Path, dict[str, Any]]:
    src = pip_download(TIMM) / "timm"
    out = OUT / "timm"
    summary_file = OUT / "convert_summary.json"
    if out.is_dir() and summary_file.exists() and not force:
        return out, json.loads(summary_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    summary = convert(src, out)
    summary["wall_s"] = round(time.perf_counter() - started, 1)
    summary_file.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return out, summary


def run_models(names: list[str], log: Path) -> list[dict[str, Any]]:
    """Run the worker until every model has a row (a crashed worker is restarted on the rest)."""
    log.unlink(missing_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    while True:
        todo = [n for n in names if n not in rows]
        if not todo:
            break
        proc = subprocess.run([sys.executable, str(ROOT / "bench" / "zoo_worker.py"), str(log), *todo],
                              capture_output=True, text=True, env=python_env(OUT), timeout=3600)  # fmt: skip
        if log.exists():
            for line in log.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                rows[row["model"]] = row
        missing = [n for n in names if n not in rows]
        if missing and missing[0] == todo[0]:  # the first one crashed the interpreter before writing
            tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            rows[missing[0]] = {"model": missing[0], "stage": "crash", "error": tail[0][:300]}
    return [rows[n] for n in names]


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--no-convert", action="store_true", help="reuse build/zoo/timm if present")
    parser.add_argument("--json", type=Path, default=RESULTS / "zoo.json")
    parser.add_argument("--weights", action="store_true",
                        help="also convert each model's torch weights with paddleport weights and compare "
                             "outputs (bench/zoo_weights.py)")  # fmt: skip
    args = parser.parse_args()
    site_packages()
    OUT.mkdir(parents=True, exist_ok=True)
    _, summary = fetch_and_convert(force=not args.no_convert)
    print(f"timm converted: {summary['files']} files, {summary['found']} torch uses, "
          f"left {summary['manual']}, "
          f"rate {summary['rate']:.1%}, {summary.get('wall_s', '?')} s")  # fmt: skip
    names = list(args.models or MODELS)
    started = time.perf_counter()
    rows = run_models(names, OUT / "results.jsonl")
    wall = time.perf_counter() - started
    imported = sum(bool(r.get("import")) for r in rows)
    built = sum(bool(r.get("build")) for r in rows)
    ran = sum(bool(r.get("forward") and r.get("shape_ok") and r.get("finite")) for r in rows)
    print(f"{len(names)} architectures: import {imported}, build {built}, forward ok (shape, finite) {ran} "
          f"= {ran / len(names):.0%}  ({wall:.0f} s)")  # fmt: skip
    print_failures(rows, "model")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"convert": summary, "models": rows, "wall_s": round(wall, 1),
                                     "counts": {"total": len(names), "import": imported, "build": built,
                                                "forward_ok": ran}}, indent=1),
                         encoding="utf-8")  # fmt: skip
    if args.weights:
        from zoo_weights import run as run_weights

        run_weights([r["model"] for r in rows if r.get("forward")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
