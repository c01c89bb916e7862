"""Incremental parsing gives exactly what ``ast.parse`` gives, whatever the edit."""

from __future__ import annotations

import ast
import random

import pytest

from paddleport.analysis.reparse import ParseCache, reparse

BLOCK = '''
@decorator
class Block{n}(nn.Module):
    def forward(self, x):
        y = torch.relu(x)  # comment
        return y.sum(dim={n})


def helper{n}(a, b=(1,
                  2)):
    return torch.cat([a, b], dim=0)
'''
TEXT = "import torch\nimport torch.nn as nn\n" + "".join(BLOCK.format(n=n) for n in range(40))
EDITS = ["x", "\n", "    ", "(", ")", "'''", "#", "\n    y = 1\n", "\nz = 2\n", "\\\n", "\nclass Q:\n", "else:\n", "",
         "from __future__ import annotations\n"]


def dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


def check(old: str, tree: ast.Module, new: str) -> ast.Module | None:
    try:
        want: ast.Module | None = ast.parse(new)
    except SyntaxError as exc:
        with pytest.raises(SyntaxError) as got:
            reparse(old, tree, new)
        assert (got.value.msg, got.value.lineno, got.value.offset) == (exc.msg, exc.lineno, exc.offset)
        return None
    assert want is not None
    result = reparse(old, tree, new)
    assert dump(result) == dump(want)
    return result


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_parse_as_the_whole_text_does(seed: int) -> None:
    rng = random.Random(seed)
    text, tree = TEXT, ast.parse(TEXT)
    for _ in range(120):
        a = rng.randrange(len(text))
        if rng.random() < 0.5:  # statement boundaries are where a reuse can go wrong
            a = text.rfind("\n", 0, a) + rng.choice([0, 1])
        b = min(len(text), a + rng.choice([0, 0, 1, 3, 20, 200]))
        new = text[:a] + rng.choice(EDITS) + text[b:]
        result = check(text, tree, new)
        if result is not None:
            text, tree = new, result


def test_typing_at_a_line_start_is_not_a_kept_statement() -> None:
    old = TEXT + "from a import b\nfrom c import d\n"
    new = TEXT + "from a import b\nxfrom c import d\n"
    check(old, ast.parse(old), new)


def test_unchanged_statements_are_reused() -> None:
    old_tree = ast.parse(TEXT)
    new = TEXT.replace("dim=7)", "dim=7, keepdim=True)")
    tree = reparse(TEXT, old_tree, new)
    assert tree.body[0] is old_tree.body[0] and tree.body[-1] is old_tree.body[-1]
    assert dump(tree) == dump(ast.parse(new))


def test_cache_follows_a_run_of_edits() -> None:
    cache = ParseCache()
    text = TEXT
    for i in range(5):
        text = text.replace("dim=3)", f"dim=3 + {i})", 1) if i else text
        assert dump(cache.parse(text)) == dump(ast.parse(text))
