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


INJECTIONS = [
    ('paddle = "paddle.nn.functional.relu if __import__(\'os\').system(\'touch pwned\') == 0 else paddle.nn.functional.relu"', "paddle", "dotted name"),
    ('paddle = "paddle.sum; import os"', "paddle", "dotted name"),
    ('paddle = "paddle.__class__.__base__"', "paddle", "dunder"),
    ('signature = "(input, dim=None)"\nrename = { dim = "axis=__import__(\'os\').getcwd()" }', "rename", "parameter name"),
    ('signature = "(input, dim=None)"\nvalues = { dim = { "0" = "__import__(\'os\').getcwd()" } }', "values", "paddle functions"),
    ('signature = "(input, dim=None)"\nvalues = { dim = { "0" = "open(\'x\').read()" } }', "values", "paddle functions"),
    ('defaults = { axis = "(lambda: 0)()" }', "defaults", "paddle functions"),
    ('defaults = { axis = "2 ** 10 ** 10" }', "defaults", "not allowed"),
    ('defaults = { axis = "[x for x in ()]" }', "defaults", "not allowed"),
    ('signature = "(input, dim=eval(\'0\'))"', "signature", "paddle functions"),
    ('aliases = ["torch.add(1)"]', "aliases", "dotted name"),
]


@pytest.mark.parametrize(("fields", "field", "words"), INJECTIONS)
def test_fields_that_become_code_must_be_what_they_claim(tmp_path: Path, fields: str, field: str,
                                                         words: str) -> None:
    """A project rule file cannot smuggle code into the user's file through a name or literal field."""
    body = f'[[rule]]\napi = "torch.sum"\npaddle = "paddle.sum"\nexample = "out = 1"\n{fields}\n'
    body = body.replace('paddle = "paddle.sum"\n', "", 1) if fields.startswith("paddle") else body
    rules = load(tmp_path, body)
    assert "torch.sum" not in rules.rules
    assert any(f":{field}: " in str(e) and words in str(e) for e in rules.errors), [str(e) for e in rules.errors]


@pytest.mark.parametrize("text", ["None", "'mean'", "-1", "(1, 2)", "paddle.float32", "paddle.get_default_dtype()",
                                  "{'a': [1, 2.5]}", "not True"])
def test_literals_names_and_paddle_calls_are_fine(tmp_path: Path, text: str) -> None:
    quoted = text.replace('"', '\\"')
    body = f'''[[rule]]
api = "torch.sum"
paddle = "paddle.sum"
signature = "(input, dim=None)"
values = {{ dim = {{ "0" = "{quoted}" }} }}
defaults = {{ keepdim = "{quoted}" }}
example = "out = 1"
'''
    rules = load(tmp_path, body)
    assert not rules.errors, [str(e) for e in rules.errors]
