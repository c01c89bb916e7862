"""``paddleport weights CHECKPOINT -o OUT.pdparams``: torch weights for the converted model.

Exit 0 written (with ``--allow-missing``, possibly lacking parameters the report lists); 2 nothing
written (unreadable or unsafe checkpoint, a shape the model does not take, a missing key without
``--allow-missing``, usage error).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from paddleport.catalog import load_catalog
from paddleport.weights import CheckpointError
from paddleport.weights.convert import Report, convert_checkpoint
from paddleport.weights.layout import ModelLayout, layouts


def run_weights(args: argparse.Namespace) -> int:
    source, output = Path(args.checkpoint), Path(args.output)
    rule_dirs = [*(getattr(args, "rules", []) or []), *(args.map or [])]
    rules = load_catalog(rule_dirs)
    for err in rules.errors:
        print(f"rule error: {err}", file=sys.stderr)
    if not output.parent.is_dir():
        print(f"{output}: the folder {output.parent} does not exist", file=sys.stderr)
        return 2
    if output.exists() and not args.force:
        print(f"{output} exists (pass --force to overwrite)", file=sys.stderr)
        return 2
    model: ModelLayout | None = None
    try:
        if args.model:
            from paddleport.weights.model import describe_model, paddle_load_check

            model = describe_model(args.model, sorted(layouts(rules)), rule_dirs, args.python)
        report = convert_checkpoint(source, output, rules, model, args.allow_missing)
        if args.model:
            # Paddle itself loads the file into the model: the check that counts
            report.paddle_check = paddle_load_check(args.model, output, rule_dirs, args.python)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename or output}: {exc.strerror}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(summary(report))
    return 0


def summary(report: Report) -> str:
    sizes = f"{report.bytes_in / 1e6:.1f} MB in, {report.bytes_out / 1e6:.1f} MB out, {report.seconds:.2f} s"
    counts = f"{report.written} tensors written of {report.tensors}"
    lines = [f"{report.source} → {report.output}: {counts} ({sizes})"]
    lines += [f"note: {n}" for n in report.notes]
    sections = (("renamed/changed", report.renamed), ("dropped", report.dropped),
                ("reshaped", report.reshaped), ("dtype", report.dtypes), ("tied (written once)", report.tied),
                ("unsure (names alone)", report.unsure))  # fmt: skip
    for title, items in sections:
        if items:
            lines.append(f"{title}: {len(items)}")
            lines += [f"  {k}: {v}" for k, v in list(items.items())[:40]]
            if len(items) > 40:
                lines.append(f"  … {len(items) - 40} more (--json lists all)")
    for title, names in (
        ("missing in the checkpoint", report.missing),
        ("unexpected (not written)", report.unexpected),
    ):
        if names:
            lines.append(f"{title}: {len(names)}")
            lines += [f"  {n}" for n in names[:40]]
    if report.paddle_check is not None:
        missing, unexpected = report.paddle_check["missing"], report.paddle_check["unexpected"]
        lines.append(f"paddle set_state_dict: {len(missing)} missing, {len(unexpected)} unexpected"
                     + (f" ({', '.join([*missing, *unexpected][:10])})" if missing or unexpected else ""))
    if not report.with_model:
        lines.append(
            "layout from names alone: pass --model FILE.py:CALL to check every key against the "
            "converted model"
        )
    return "\n".join(lines)
