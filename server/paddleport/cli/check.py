"""``paddleport check``: torch uses as linter lines or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from paddleport.analysis.finder import analyze
from paddleport.catalog import make_planner
from paddleport.files import ReadProblem, python_files, read_source
from paddleport.rewrite.convert import UseCounts, count_uses, plan
from paddleport.rewrite.fixes import Fix, Planner
from paddleport.rules.model import Tier

CODE_BY_TIER = {Tier.EXACT: "PP100", Tier.REVIEW: "PP200", Tier.MANUAL: "PP300"}
CODE_NO_RULE = "PP400"
CODE_UNREADABLE = "PP900"


def code_for(fix: Fix) -> str:
    """PP100 exact fix, PP200 fix to review, PP300 manual port, PP400 no rule yet (and no conversion
    by the engine itself, which has its own for type promotion and device/dtype dicts)."""
    if fix.use.rule is None and fix.use.kind.value != "import" and fix.replacement is None:
        return CODE_NO_RULE
    return CODE_BY_TIER[fix.tier]


@dataclass
class Finding:
    path: str
    line: int
    col: int
    end_line: int
    end_col: int
    code: str
    api: str
    tier: str
    message: str
    fixable: bool

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


def check_text(path: str, text: str, planner: Planner) -> tuple[list[Finding], UseCounts]:
    """The findings of one file, and its counts (the definition the editor shows too)."""
    analysis = analyze(text, planner.rules)
    if analysis.syntax_error is not None:
        err = analysis.syntax_error
        return [Finding(path, err.line, err.col + 1, err.line, err.col + 1, CODE_UNREADABLE, "",
                        "manual", f"syntax error: {err.message}; fix it to analyse this file",
                        False)], UseCounts()  # fmt: skip
    findings = []
    fixes = plan(analysis, planner)
    for fix in fixes:
        line, col = analysis.source.position(fix.use.focus_start)
        end_line, end_col = analysis.source.position(fix.use.focus_end)
        findings.append(Finding(path, line, col + 1, end_line, end_col + 1, code_for(fix),
                                fix.use.api, fix.tier.value, fix.message, fix.fixable))  # fmt: skip
    return findings, count_uses(fixes)


def run_check(args: argparse.Namespace) -> int:
    planner = make_planner(args.rules)
    for err in planner.rules.errors:
        print(f"rule error: {err}", file=sys.stderr)
    findings: list[Finding] = []
    counts = UseCounts()
    for root in args.paths:
        root_path = Path(root)
        if not root_path.exists():
            print(f"{root}: no such file or folder", file=sys.stderr)
            findings.append(Finding(root, 1, 1, 1, 1, CODE_UNREADABLE, "", "manual",
                                    "no such file or folder", False))  # fmt: skip
            continue
        for path in python_files(root_path):
            try:
                text = read_source(path)
            except ReadProblem as exc:
                findings.append(Finding(str(path), 1, 1, 1, 1, CODE_UNREADABLE, "", "manual",
                                        str(exc), False))  # fmt: skip
                continue
            found, in_file = check_text(str(path), text, planner)
            findings.extend(found)
            counts += in_file
    if args.format == "json":
        json.dump([f.__dict__ for f in findings], sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        for f in findings:
            print(f.text())
        if counts.uses:
            print(f"Found {counts.uses} torch uses ({counts.convertible} converted by `paddleport convert`, "
                  f"{counts.on_save} of them exact fixes that fix-all on save applies).",
                  file=sys.stderr)  # fmt: skip
    return 1 if findings else 0
