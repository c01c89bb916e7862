"""``paddleport equiv FILE --target NAME``: the original under torch, the conversion under paddle.

Exit 0 when every output (and gradient) matches, 1 on a mismatch, 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import os
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

_FACTORY_FILE = """import torch
import {module}


class Model(torch.nn.Module):
    \"\"\"The model `{call}` builds: from the package under torch, from its conversion under paddle.\"\"\"

    def __new__(cls):
        return {call}
"""


def _factory_file(args: argparse.Namespace, tmp: Path) -> Path:
    """A file whose class ``Model`` is the factory's model, so the file-based check runs it."""
    module = args.factory.split("(", 1)[0].rsplit(".", 1)[0].strip()
    path = tmp / "paddleport_factory.py"
    path.write_text(_FACTORY_FILE.format(module=module, call=args.factory.strip()), encoding="utf-8")
    args.target, args.example = "Model", f"Model()({args.example or ''})"
    return path


def _convert_for(args: argparse.Namespace, text: str, path: Path, tmp: Path) -> tuple[str, str]:
    """The checkpoint converted by ``paddleport weights`` for the target the example builds."""
    from paddleport.catalog import load_catalog
    from paddleport.weights.convert import convert_checkpoint
    from paddleport.weights.layout import layouts
    from paddleport.weights.model import describe_model

    call = resolve_call(text, find_target(text, args.target), args.example)
    rules = load_catalog(getattr(args, "rules", []) or [])
    spec = args.factory.strip() if args.factory else f"{path.resolve()}:{call.callee}"
    saved = os.environ.get("PYTHONPATH")
    if args.converted:  # the model process builds the converted package's model
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(args.converted).resolve()), saved]))
    try:
        model = describe_model(spec, sorted(layouts(rules)), args.rules, args.python)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    out = tmp / "checkpoint.pdparams"
    report = convert_checkpoint(Path(args.checkpoint), out, rules, model, allow_missing=True)
    for name in report.missing:
        print(f"note: paddle {name} is not in the checkpoint", file=sys.stderr)
    return str(Path(args.checkpoint).resolve()), str(out)


def run_equiv(args: argparse.Namespace) -> int:
    if bool(args.factory) == bool(args.file) or (args.factory and not args.converted):
        print("paddleport equiv: give FILE --target NAME, or --factory CALL --converted DIR", file=sys.stderr)
        return 2
    if not args.factory and not args.target:
        print("paddleport equiv: --target is required with FILE", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="paddleport-equiv-") as tmp:
        path = _factory_file(args, Path(tmp)) if args.factory else Path(args.file)
        return _run_equiv(args, path, tmp)


def _run_equiv(args: argparse.Namespace, path: Path, tmp: str) -> int:
    try:
        text = read_source(path)
    except ReadProblem as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 2
    planner = make_planner(getattr(args, "rules", []) or [])
    converted = str(Path(args.converted).resolve()) if args.converted else None
    options = Options(example=args.example, grad=args.grad, timeout=args.timeout, rtol=args.rtol,
                      atol=args.atol, converted=converted)  # fmt: skip
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
