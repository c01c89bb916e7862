"""``paddleport equiv FILE --target NAME``: the original under torch, the conversion under paddle.

Exit 0 when every output (and gradient) matches, 1 on a mismatch, 2 on an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from paddleport.catalog import make_planner
from paddleport.files import ReadProblem, read_source
from paddleport.kernel.check import EXIT_CODES, Options, check_target
from paddleport.kernel.report import table
from paddleport.kernel.session import KernelSession


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
