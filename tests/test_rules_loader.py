"""Rule files are validated on load; every error names file, rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from paddleport.rewrite.transforms import TRANSFORMS
from paddleport.rules.loader import RuleSet, load_rules
from paddleport.rules.model import Tier


def load(tmp_path: Path, text: str | bytes, name: str = "user.toml") -> RuleSet:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return load_rules([tmp_path], known_transforms=TRANSFORMS.keys(), include_builtin=False,
                      require_examples_in=[tmp_path])  # fmt: skip


GOOD = '''
[[rule]]
api = "torch.sum"
paddle = "paddle.sum"
signature = "(input, dim=None)"
rename = { input = "x", dim = "axis" }
example = "out = torch.sum(randn(2), dim=0)"
'''


def test_a_good_rule_loads(tmp_path: Path) -> None:
    rules = load(tmp_path, GOOD)
    assert not rules.errors
    rule = rules.get("torch.sum")
    assert rule is not None and rule.tier is Tier.EXACT and rule.rename == {"input": "x", "dim": "axis"}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ('api = "torch.sum"\npaddle = "paddle.sum"\nexampel = "out = 1"', "exampel", "unknown field"),
        ('api = "torch.sum"\nexample = "out = 1"', "paddle", "required"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\ntier = "exactly"\nexample = "out = 1"', "tier", "not one of"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nsignature = "input, dim"\nexample = "out = 1"', "signature", "parenthesised"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nsignature = "(input)"\nrename = { dim = "axis" }\nexample = "out = 1"', "rename", "not a parameter"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nrename = { dim = "axis" }\nexample = "out = 1"', "rename", "needs a 'signature'"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nsignature = "(input, dim)"\npack = "dim"\nexample = "out = 1"', "pack", "*varargs"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\ntransform = "nope"\nexample = "out = 1"', "transform", "unknown transform"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\ntier = "review"\nexample = "out = 1"', "note", "what to review"),
        ('api = "torch.sum"\ntier = "manual"', "guide", "what to do"),
        ('api = "torch.sum"\npaddle = "paddle.sum"', "example", "needs an example"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nexample = "y = 1"', "example", "named 'out'"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nexample = "out = ("', "example", "does not parse"),
        ('api = "torch.sum"\npaddle = "paddle.sum"\nexample = "out = 1"\ncompare = "shape"', "example", "'why'"),
        ('api = "torch.sum"\npaddle = "numpy.sum"\nexample = "out = 1"', "paddle", "qualified paddle name"),
        ('api = "sum"\npaddle = "paddle.sum"', "api", "required"),
    ],
)
def test_errors_name_file_rule_and_field(tmp_path: Path, body: str, field: str, words: str) -> None:
    rules = load(tmp_path, f"[[rule]]\n{body}\n")
    messages = [str(e) for e in rules.errors]
    expected_prefix = f"{tmp_path / 'user.toml'}:"
    match = [m for m in messages if m.startswith(expected_prefix) and f":{field}: " in m and words in m]
    assert match, messages


def test_a_bad_rule_does_not_hide_the_good_ones(tmp_path: Path) -> None:
    rules = load(tmp_path, GOOD + '\n[[rule]]\napi = "torch.bad"\npaddle = 3\n')
    assert rules.get("torch.sum") is not None
    assert rules.get("torch.bad") is None
    assert any("torch.bad:paddle:" in str(e) for e in rules.errors)


def test_invalid_toml_is_one_clear_error(tmp_path: Path) -> None:
    rules = load(tmp_path, "[[rule]\napi = ")
    (err,) = rules.errors
    assert str(err).startswith(f"{tmp_path / 'user.toml'}:-:-: invalid TOML")


def test_non_utf8_rule_file(tmp_path: Path) -> None:
    rules = load(tmp_path, b"\xff\xfe[[rule]]")
    (err,) = rules.errors
    assert "not UTF-8" in str(err)


def test_missing_rule_folder_is_reported(tmp_path: Path) -> None:
    rules = load_rules([tmp_path / "nope"], include_builtin=False)
    assert "rule folder does not exist" in str(rules.errors[0])


def test_project_rules_override_builtin_ones(tmp_path: Path) -> None:
    (tmp_path / "override.toml").write_text(
        '[[rule]]\napi = "torch.nn.Module"\ntier = "manual"\nguide = "we keep torch here"\n',
        encoding="utf-8",
    )
    rules = load_rules([tmp_path], known_transforms=TRANSFORMS.keys())
    rule = rules.get("torch.nn.Module")
    assert rule is not None and rule.tier is Tier.MANUAL and rule.guide == "we keep torch here"
    assert not rules.errors


def test_duplicate_api_in_one_file(tmp_path: Path) -> None:
    rules = load(tmp_path, GOOD + GOOD)
    assert any(":torch.sum:api: defined twice" in str(e) for e in rules.errors)


def test_shipped_rules_are_valid(shipped_rules: RuleSet) -> None:
    assert len(shipped_rules) > 0
    for rule in shipped_rules:
        assert rule.source.suffix == ".toml"
