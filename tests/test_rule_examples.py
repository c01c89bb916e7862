"""Every shipped rule proves itself: its example runs under torch and, converted, under paddle.

All examples run in one verification pass (a torch worker then a paddle worker
per shard, one shard per core); each rule is then its own test case.
"""

from __future__ import annotations

import pytest

from paddleport import verify
from paddleport.catalog import load_catalog
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Tier

CATALOG = load_catalog()
CONVERTING = sorted((r for r in CATALOG if (r.tier is not Tier.MANUAL or r.type_check) and not r.unverifiable_here),
                    key=lambda r: r.api)  # fmt: skip
NEEDS_GPU = [r.api for r in CATALOG if r.needs_gpu]
NEEDS_TORCHVISION_OPS = [r.api for r in CATALOG if r.needs_torchvision_ops]
NEEDS_NPU = [r.api for r in CATALOG if r.needs_npu]


@pytest.fixture(scope="module")
def verdicts() -> dict[str, verify.Verdict]:
    return verify.verify(CONVERTING, Planner(CATALOG))


@pytest.mark.parametrize("api", [r.api for r in CONVERTING])
def test_rule_example_is_numerically_equal(api: str, verdicts: dict[str, verify.Verdict]) -> None:
    verdict = verdicts[api]
    assert verdict.verified, verdict.reason


@pytest.mark.parametrize("api", NEEDS_GPU)
def test_gpu_only_rules_are_reported_unverified(api: str) -> None:
    rule = CATALOG.get(api)
    assert rule is not None
    (verdict,) = verify.verify([rule], Planner(CATALOG), shards=1).values()
    assert not verdict.verified and "needs a GPU" in verdict.reason


@pytest.mark.parametrize("api", NEEDS_NPU)
def test_npu_only_rules_are_reported_unverified(api: str) -> None:
    rule = CATALOG.get(api)
    assert rule is not None
    (verdict,) = verify.verify([rule], Planner(CATALOG), shards=1).values()
    assert not verdict.verified and "torch_npu" in verdict.reason


@pytest.mark.parametrize("api", NEEDS_TORCHVISION_OPS)
def test_torchvision_ops_rules_are_reported_unverified(api: str) -> None:
    rule = CATALOG.get(api)
    assert rule is not None and rule.examples
    (verdict,) = verify.verify([rule], Planner(CATALOG), shards=1).values()
    assert not verdict.verified and "torchvision's compiled ops" in verdict.reason


def test_manual_rules_say_what_to_do() -> None:
    for rule in CATALOG:
        if rule.tier is Tier.MANUAL:
            assert rule.guide and len(rule.guide) > 15, rule.api


def test_a_wrong_rule_is_caught(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The harness is not a rubber stamp: a rule mapping sum to mean must fail its example."""
    (tmp_path / "wrong.toml").write_text(
        '[[rule]]\napi = "torch.sum"\npaddle = "paddle.mean"\nsignature = "(input, dim=None)"\n'
        'rename = { input = "x", dim = "axis" }\nexample = "out = torch.sum(randn(3, 4), dim=1)"\n',
        encoding="utf-8",
    )
    rules = load_catalog([tmp_path])
    wrong = rules.get("torch.sum")
    assert wrong is not None
    (verdict,) = verify.verify([wrong], Planner(rules), shards=1).values()
    assert not verdict.verified and "FAIL" in verdict.reason and "max_abs" in verdict.reason
