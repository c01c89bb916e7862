"""``paddleport equiv FILE --target NAME``: the original under torch, the conversion under paddle.

Exit 0 when every output (and gradient) matches, 1 on a mismatch, 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from paddleport.catalog import make_planner
from paddleport.files import ReadProblem, read_source
from paddleport.kernel.check import EXIT_CODES, Options, check_target
from paddleport.kernel.report import table
from paddleport.kernel.session import KernelSession
from paddleport.kernel.target import TargetError, find_target, resolve_call
from paddleport.weights import CheckpointError


def _convert_for(args: argparse.Namespace, text: str, path: Path, tmp: Path) -> tuple[str, str]:
    """The checkpoint converted by ``paddleport weights`` for the target the example builds."""
    from paddleport.catalog import load_catalog
    from paddleport.weights.convert import convert_checkpoint
    from paddleport.weights.layout import layouts
    from paddleport.weights.model import describe_model

    call = resolve_call(text, find_target(text, args.target), args.example)
    rules = load_catalog(getattr(args, "rules", []) or [])
    model = describe_model(f"{path.resolve()}:{call.callee}", sorted(layouts(rules)), args.rules, args.python)
    out = tmp / "checkpoint.pdparams"
    report = convert_checkpoint(Path(args.checkpoint), out, rules, model, allow_missing=True)
    for name in report.missing:
        print(f"note: paddle {name} is not in the checkpoint", file=sys.stderr)
    return str(Path(args.checkpoint).resolve()), str(out)


def run_equiv(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = read_source(path)
    except ReadProblem as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    planner = make_planner(getattr(args, "rules", []) or [])
    options = Options(
        example=args.example, grad=args.grad, timeout=args.timeout, rtol=args.rtol, atol=args.atol
    )
    with tempfile.TemporaryDirectory(prefix="paddleport-equiv-") as tmp:
        if getattr(args, "checkpoint", None):
            try:
                options.checkpoint, options.pdparams = _convert_for(args, text, path, Path(tmp))
            except (CheckpointError, TargetError) as exc:
                print(f"{path}: {exc}", file=sys.stderr)
                return 2
        session = KernelSession(python=args.python)
        try:
            result = check_target(session, text, str(path.resolve()), args.target, planner, options)
        finally:
            session.shutdown()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    return EXIT_CODES.get(result["status"], 2)
