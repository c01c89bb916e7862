"""``paddleport rules``: list, show, validate and report the mapping rules."""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from pathlib import Path

from paddleport.catalog import load_catalog
from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import RuleSet, load_rules
from paddleport.rules.model import Rule, Tier


def run_rules(args: argparse.Namespace) -> int:
    cmd = args.rules_command
    if cmd == "validate":
        return _validate(args)
    rules = load_catalog(args.rules)
    for err in rules.errors:
        print(f"rule error: {err}", file=sys.stderr)
    if cmd == "list":
        for rule in sorted(rules, key=lambda r: r.api):
            print(f"{rule.api:50} {rule.tier.value:7} {target(rule) or '-'}")
        return 0
    if cmd == "show":
        found = rules.get(args.api)
        if found is None:
            close = [r.api for r in rules if args.api.rsplit(".", 1)[-1].lower() in r.api.lower()]
            hint = f" (did you mean: {', '.join(close[:5])}?)" if close else ""
            print(f"no rule for {args.api}{hint}", file=sys.stderr)
            return 1
        print(rule_markdown(found))
        return 0
    if cmd == "report":
        return _report(args, rules)
    return 2


def rule_markdown(rule: Rule) -> str:
    """Everything about one rule, as Markdown (also shown by the editor's Show Rule)."""
    lines = [f"## `{rule.api}`", "", f"**{rule.summary()}**", "", f"- tier: `{rule.tier.value}`"]
    if rule.signature:
        lines.append(f"- torch signature: `{rule.signature.text}`")
    for label, value in (("renamed", rule.rename), ("values", rule.values),
                         ("added defaults", rule.defaults), ("unsupported", rule.unsupported)):  # fmt: skip
        if value:
            lines.append(f"- {label}: " + ", ".join(f"`{k}` → {v}" for k, v in value.items()))
    if rule.drop:
        lines.append("- dropped: " + ", ".join(f"`{d}`" for d in rule.drop))
    if rule.pack:
        lines.append(f"- `*{rule.pack}` is passed as one list")
    if rule.formula:
        lines.append(f"- formula: `{rule.formula}`")
    elif rule.transform:
        lines.append(f"- transform: `{rule.transform}`")
    for layout in rule.weights:
        parts = [f"`{a}` → `{b}`" for a, b in layout.rename.items()]
        parts += [f"`{a}` split into " + ", ".join(f"`{p}`" for p in b) for a, b in layout.split.items()]
        parts += [f"`{a}` transposed" for a in layout.transpose]
        parts += [f"`{a}` reshaped to {list(b)}" for a, b in layout.reshape.items()]
        parts += [f"`{a}` dropped" for a in layout.drop]
        parts += [f"`{a}` also `{b}`" for a, b in layout.alias.items()]
        target = f" for `{layout.layer}`" if layout.layer else ""
        lines.append(f"- checkpoint weights{target}: " + ("; ".join(parts) or "names and layouts unchanged"))
    if rule.keywords_after is not None:
        lines.append(f"- arguments after the first {rule.keywords_after} are passed by keyword")
    if rule.index_flag:
        lines.append(f"- with `{rule.index_flag}=True` the indices are cast to int64")
    if rule.aliases:
        lines.append("- also matches: " + ", ".join(f"`{a}`" for a in rule.aliases))
    if rule.note:
        lines += ["", f"Review: {rule.note}"]
    if rule.guide:
        lines += ["", f"Manual: {rule.guide}"]
    for ex in rule.examples:
        lines += ["", "```python", ex.code.strip(), "```"]
    lines += ["", f"Defined in `{rule.source.name}`."]
    return "\n".join(lines)


def _validate(args: argparse.Namespace) -> int:
    if args.path:
        folder = Path(args.path)
        if folder.is_file():
            from paddleport.rules.loader import load_file

            rules = RuleSet()
            load_file(folder, rules, TRANSFORMS.keys(), require_examples=False)
        else:
            rules = load_rules([folder], known_transforms=TRANSFORMS.keys())
    else:
        rules = load_catalog(args.rules)
    for err in rules.errors:
        print(err)
    print(f"{len(rules)} rules, {len(rules.errors)} errors", file=sys.stderr)
    return 1 if rules.errors else 0


def _report(args: argparse.Namespace, rules: RuleSet) -> int:
    from paddleport import verify

    selected = sorted(rules, key=lambda r: r.api)
    if args.only:
        selected = [r for r in selected if any(fnmatch.fnmatchcase(r.api, p) for p in args.only)]
    if args.verify:
        try:
            import numpy  # noqa: F401
        except ImportError:
            print("--verify needs the frameworks: pip install 'paddleport[frameworks]'", file=sys.stderr)
            return 2
        verdicts = verify.verify(selected, _planner(rules))
        if not args.only:
            verify.save(verdicts, Path(args.results) if args.results else None)
    else:
        verdicts = verify.load(Path(args.results) if args.results else None)
    rows: list[dict[str, object]] = []
    for rule in selected:
        v = verdicts.get(rule.api)
        rows.append({
            "api": rule.api, "paddle": target(rule), "tier": rule.tier.value,
            "verified": bool(v and v.verified),
            "reason": (v.reason if v else "not verified in this installation: run "
                       "`paddleport rules report --verify`") if not (v and v.verified) else "",
            "file": rule.source.name,
        })  # fmt: skip
    if args.format == "json":
        json.dump(rows, sys.stdout, indent=1)
        print()
    elif args.format == "markdown":
        print(_markdown_table(rows))
    elif args.format == "docs":
        print("# paddleport rules\n\nEvery mapping rule, as `paddleport rules show` prints it; the "
              "editor links each diagnostic here. Generated by `paddleport rules report --verify "
              "--format docs`.\n")
        for rule, row in zip(selected, rows, strict=True):
            status = "verified: its example agrees under torch and paddle" if row["verified"] else (
                f"not verified: {row['reason']}")  # fmt: skip
            print(rule_markdown(rule).replace("\n- tier:", f"\n- {status}\n- tier:", 1))
            print()
    else:
        for row in rows:
            mark = "ok " if row["verified"] else "-- "
            print(f"{mark}{row['api']:50} {row['tier']:7} {row['paddle'] or '-'}"
                  + (f"  ({row['reason']})" if row["reason"] and args.verify else ""))  # fmt: skip
        ok = sum(1 for r in rows if r["verified"])
        print(f"{len(rows)} rules, {ok} verified", file=sys.stderr)
    # manual rules have nothing to verify, and GPU-only examples cannot run here: neither fails
    failed = args.verify and any(not row["verified"] and rule.tier is not Tier.MANUAL
                                 and not rule.unverifiable_here
                                 for rule, row in zip(selected, rows, strict=True))  # fmt: skip
    return 1 if failed else 0


def target(rule: Rule) -> str | None:
    """What a rule turns torch into: the Paddle name, else its statement or formula, one line."""
    if rule.paddle is not None or not rule.converts:
        return rule.paddle
    if rule.statement is not None:
        return rule.statement_code
    from paddleport.rewrite.transforms.optim import FORMULAS

    if rule.transform == "drop_call":
        return "(the receiver itself)"
    return rule.formula or FORMULAS.get(rule.api, "Paddle code")


def _planner(rules: RuleSet):  # type: ignore[no-untyped-def]
    from paddleport.rewrite.fixes import Planner

    return Planner(rules)


def _markdown_table(rows: list[dict[str, object]]) -> str:
    out = [
        "# Supported torch APIs",
        "",
        "Generated by `paddleport rules report --format markdown`. Tiers: `exact` is applied by "
        "fix-all; `review` is converted but worth a look; `manual` is left as is with a guideline. "
        "✅ means the rule's example ran under torch and, converted, under paddle with equal results.",
        "",
        "| torch | paddle | tier | verified |",
        "|---|---|---|---|",
    ]
    for r in rows:
        anchor = re.sub(r"[^\w\- ]", "", str(r["api"]).lower())
        paddle = f"`{str(r['paddle']).replace('|', '&#124;')}`" if r["paddle"] else "—"
        verified = "✅" if r["verified"] else "❌"
        out.append(f"| [`{r['api']}`](rules.md#{anchor}) | {paddle} | {r['tier']} | {verified} |")
    return "\n".join(out)
