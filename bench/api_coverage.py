"""Which APIs that PaConvert 3.3.1 maps does paddleport convert, leave manual with a reason, or miss?

    python bench/api_coverage.py [--mapping api_mapping.json] [--top 40] [--json out.json]

PaConvert's `api_mapping.json` is read from its PyPI package (`pip download --no-deps
paconvert==3.3.1` into build/corpus, gitignored, never committed) unless `--mapping` names a copy.
An API counts as converted when a paddleport rule (its api, an alias, or the canonical spelling)
rewrites it, manual when the rule only gives a guide, missing when no rule names it. A member
without a rule of its own (`ResNet18_Weights.DEFAULT`, `torch.__version__.split`) counts under
its class's or attribute's rule, as the finder resolves it (the longest prefix that names a rule). torch and
torchvision are in scope; other libraries (transformers, flash_attn, ...) are counted on their own line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import RESULTS, pip_download

from paddleport.analysis.canonical import canonical
from paddleport.catalog import load_catalog
from paddleport.rules.loader import RuleSet
from paddleport.rules.model import Kind, Rule, Tier

PACONVERT = "paconvert==3.3.1"
IN_SCOPE = ("torch.", "torchvision.")


def paconvert_mapping() -> Path:
    """api_mapping.json of the PaConvert wheel, downloaded and extracted once into build/corpus."""
    return pip_download(PACONVERT) / "paconvert" / "api_mapping.json"


def classify(apis: list[str], rules: RuleSet) -> dict[str, str]:
    """``{api: 'converted' | 'manual' | 'missing' | 'outside'}`` for PaConvert's API names."""
    out: dict[str, str] = {}
    for api in apis:
        if not api.startswith(IN_SCOPE):
            out[api] = "outside"
            continue
        rule = rules.get(api) or rules.get(canonical(api)) or owner_rule(api, rules)
        if rule is None:
            out[api] = "missing"
        elif rule.tier is Tier.MANUAL or not rule.converts:
            out[api] = "manual"
        else:
            out[api] = "converted"
    return out


def owner_rule(api: str, rules: RuleSet) -> Rule | None:
    """The rule of the class or attribute that ``api`` is a member of, the finder's longest-prefix
    resolution; tensor methods are rules of their own, so ``torch.Tensor`` never stands in."""
    parts = canonical(api).split(".")
    for k in range(len(parts) - 1, 1, -1):
        prefix = ".".join(parts[:k])
        rule = rules.get(prefix)
        member_of = parts[k - 1][:1].isupper() or (rule is not None and rule.kind is Kind.ATTRIBUTE)
        if rule is not None and prefix != "torch.Tensor" and member_of:
            return rule
    return None


def namespace(api: str) -> str:
    """``torch.nn.functional`` for ``torch.nn.functional.relu``; classes' members under the class."""
    parts = api.split(".")
    for i, part in enumerate(parts[:-1]):
        if part[:1].isupper():
            return ".".join(parts[: i + 1])
    return ".".join(parts[:-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mapping", type=Path, help="a copy of PaConvert's api_mapping.json")
    parser.add_argument("--top", type=int, default=40, help="how many missing APIs to list")
    parser.add_argument("--json", type=Path, default=RESULTS / "api_coverage.json")
    args = parser.parse_args()
    mapping_path = args.mapping or paconvert_mapping()
    mapping: dict[str, dict[str, object]] = json.loads(mapping_path.read_text(encoding="utf-8"))
    rules = load_catalog()
    verdict = classify(sorted(mapping), rules)
    counts = Counter(verdict.values())
    torch_total = sum(counts[k] for k in ("converted", "manual", "missing"))
    print(f"PaConvert 3.3.1 api_mapping.json: {len(mapping)} APIs "
          f"({torch_total} under torch and torchvision)")
    print(f"paddleport: {len(rules)} rules")
    for kind in ("converted", "manual", "missing"):
        share = 100 * counts[kind] / torch_total if torch_total else 0.0
        print(f"  {kind:<10} {counts[kind]:5d}  ({share:.1f} % of them)")
    print(f"  other libraries (transformers, flash_attn, ...): {counts['outside']}")
    missing = [api for api, kind in verdict.items() if kind == "missing"]
    by_space = Counter(namespace(api) for api in missing)
    if missing:
        print("\nmissing, by namespace:")
        for space, n in by_space.most_common(15):
            print(f"  {n:4d}  {space}")
        print(f"\nfirst {min(args.top, len(missing))} missing (largest namespaces first):")
        ranked = sorted(missing, key=lambda a: (-by_space[namespace(a)], a))
        for api in ranked[: args.top]:
            print(f"  {api}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"counts": dict(counts), "rules": len(rules), "verdict": verdict},
                                    indent=1, sort_keys=True), encoding="utf-8")  # fmt: skip
    print(f"\nper-API verdicts: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
