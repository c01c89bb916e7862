"""``paddleport`` command line: check, convert, rules, lsp (and equiv, via the kernel)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from paddleport import __version__
from paddleport.catalog import project_rule_dir


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paddleport", description="Port PyTorch code to PaddlePaddle."
    )
    parser.add_argument("--version", action="version", version=f"paddleport {__version__}")
    parser.add_argument("--rules", action="append", default=[], metavar="DIR",
                        help="extra rule folder (may repeat); its rules override built-in ones; "
                             "a .paddleport/rules folder here or above is loaded too")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="list torch uses like a linter; exit 1 if any")
    check.add_argument("paths", nargs="+")
    check.add_argument("--format", choices=["text", "json"], default="text")

    convert = sub.add_parser(
        "convert", help="convert files or folders to Paddle; exit 0 torch-free, 3 still needs torch",
        description="Exit codes: 0 the converted code no longer needs torch; 3 converted, but a file "
                    "still imports or uses torch (listed first in the summary); 2 usage error.")  # fmt: skip
    convert.add_argument("paths", nargs="+")
    dest = convert.add_mutually_exclusive_group()
    dest.add_argument("-o", "--output", help="output file or folder")
    dest.add_argument("--in-place", action="store_true", help="rewrite the files themselves")
    convert.add_argument("--diff", action="store_true", help="print a unified diff")
    convert.add_argument("--annotate", action="store_true",
                         help="mark what stays torch with '# paddleport: manual — why' and "
                              "conversions to check with '# paddleport: review — why'")  # fmt: skip
    convert.add_argument("--report", metavar="FILE",
                         help="write every blocker, manual and review item to FILE (.json: JSON, else "
                              "markdown); default with -o on a folder: OUT/paddleport-report.md")  # fmt: skip
    convert.add_argument("--no-report", action="store_true", help="write no report file")
    convert.add_argument("--force", action="store_true", help="overwrite an existing output")
    convert.add_argument("--jobs", "-j", type=int, default=None, help="worker processes")
    convert.add_argument("--format", choices=["text", "json"], default="text",
                         help="summary format")  # fmt: skip
    convert.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    convert.add_argument("--jedi", action="store_true",
                         help="also ask jedi about receivers neither the file nor the project index "
                              "types (slow; rarely adds anything)")  # fmt: skip
    convert.add_argument("--no-jedi", action="store_true", help=argparse.SUPPRESS)  # the old default
    convert.add_argument("--no-index", action="store_true",
                         help="analyse each file alone, not reading the rest of the project")  # fmt: skip

    rules = sub.add_parser("rules", help="list, show, validate or report mapping rules")
    rsub = rules.add_subparsers(dest="rules_command", required=True)
    rsub.add_parser("list", help="one line per rule")
    show = rsub.add_parser("show", help="everything about one rule")
    show.add_argument("api")
    validate = rsub.add_parser("validate", help="check rule files; exit 1 on errors")
    validate.add_argument("path", nargs="?")
    report = rsub.add_parser("report", help="every rule with tier and verification status")
    report.add_argument("--format", choices=["text", "json", "markdown", "docs"], default="text",
                        help="markdown: the supported-API table; docs: every rule in full")  # fmt: skip
    report.add_argument("--verify", action="store_true",
                        help="run every example now (needs torch and paddle)")  # fmt: skip
    report.add_argument("--results", help="verification results JSON to read or write")
    report.add_argument("--only", action="append", default=[], metavar="GLOB",
                        help="only rules whose api matches, e.g. 'torch.nn.*' (may repeat)")  # fmt: skip

    sub.add_parser("lsp", help="run the language server on stdio")

    weights = sub.add_parser(
        "weights", help="convert a torch checkpoint to .pdparams for the converted model",
        description="Exit codes: 0 written; 2 nothing written (unsafe or unreadable checkpoint, a shape the "
                    "model does not take, a parameter the checkpoint lacks without "
                    "--allow-missing).")  # fmt: skip
    weights.add_argument("checkpoint", help=".pt/.pth/.bin (torch.save zip) or .safetensors")
    weights.add_argument("-o", "--output", required=True, help="the .pdparams to write")
    weights.add_argument("--model", metavar="FILE.py:CALL",
                         help="build the model with CALL from FILE (torch code is converted first) "
                              "under Paddle and map every key by its layers; or a factory call alone, "
                              "\"timm.create_model('resnet18')\", from a converted package on the "
                              "path")  # fmt: skip
    weights.add_argument("--map", action="append", default=[], metavar="DIR",
                         help="rule folder whose layers' weights layouts add to or override "
                              "the built-in ones")  # fmt: skip
    weights.add_argument("--allow-missing", action="store_true",
                         help="write even if the model has parameters "
                         "the checkpoint lacks")  # fmt: skip
    weights.add_argument("--force", action="store_true", help="overwrite an existing output")
    weights.add_argument("--json", action="store_true", help="the report as JSON")
    weights.add_argument("--python", help="interpreter that builds the model (default: this one)")

    equiv = sub.add_parser("equiv", help="run a function under torch and its conversion under paddle")
    equiv.add_argument("file", nargs="?", help="the torch file (not with --factory)")
    equiv.add_argument("--target", help="function or class name")
    equiv.add_argument("--example", help="a call such as 'f(randn(2, 3))'; with --factory, the inputs "
                                         "('randn(1, 3, 224, 224)')")  # fmt: skip
    equiv.add_argument("--factory", metavar="CALL",
                       help="a whole model from a package (\"timm.create_model('resnet18')\"), built "
                            "from the package under torch and from its conversion under paddle")  # fmt: skip
    equiv.add_argument("--converted", metavar="DIR",
                       help="the folder holding the converted package (with --factory)")
    equiv.add_argument("--grad", action="store_true", help="compare gradients too")
    equiv.add_argument("--json", action="store_true")
    equiv.add_argument("--timeout", type=float, default=60.0)
    equiv.add_argument("--rtol", type=float, default=1e-5)
    equiv.add_argument("--atol", type=float, default=1e-6)
    equiv.add_argument("--python", help="interpreter for the kernel (default: this one)")
    equiv.add_argument("--checkpoint", metavar="FILE",
                       help="torch weights for a module: the original on the torch side, converted with "
                            "`paddleport weights` on the paddle side; a mismatch names the first diverging "
                            "layer")  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    project = project_rule_dir()
    if project is not None and str(project) not in args.rules:
        args.rules.insert(0, str(project))
    try:
        if args.command == "check":
            from paddleport.cli.check import run_check

            return run_check(args)
        if args.command == "convert":
            from paddleport.cli.convert import run_convert

            _report_rule_errors(args.rules)
            return run_convert(args)
        if args.command == "rules":
            from paddleport.cli.rules_cmd import run_rules

            return run_rules(args)
        if args.command == "lsp":
            from paddleport.lsp.server import run_stdio

            run_stdio(args.rules)
            return 0
        if args.command == "weights":
            from paddleport.cli.weights import run_weights

            return run_weights(args)
        if args.command == "equiv":
            from paddleport.cli.equiv import run_equiv

            return run_equiv(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 2


def _report_rule_errors(rule_dirs: Sequence[str]) -> None:
    """Project rule files that do not load are named before a conversion, which goes on without them.

    Only the extra folders are read here (the built-in rules are tested); each worker loads its own.
    """
    if not rule_dirs:
        return
    from paddleport.rewrite.transforms import TRANSFORMS
    from paddleport.rules.loader import load_rules

    for err in load_rules([Path(d) for d in rule_dirs], known_transforms=TRANSFORMS.keys(),
                          include_builtin=False).errors:  # fmt: skip
        print(f"rule error: {err}", file=sys.stderr)
