"""What rule fields that become code may contain.

A rule's text is written into the user's file by quick fixes, fix-all on save
and ``convert``. Project rule folders come from the workspace, so a field that
claims to be a name must be a name: ``paddle = "paddle.nn.functional.relu if
__import__('os').system(...) ..."`` parses as an expression but is an
injection. Each checker returns the problem in words, or None when the text is
what the field claims to be.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DOTTED = re.compile(rf"{_IDENT}(?:\.{_IDENT})*")
_IDENTIFIER = re.compile(_IDENT)
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)


def _dunder(part: str) -> bool:
    return part.startswith("__") and part.endswith("__") and len(part) > 4


def dotted_name_problem(text: str, prefix: str, *, dunders: bool = False) -> str | None:
    """A qualified name such as ``paddle.nn.Conv2D``, starting with ``prefix``.

    Dunder parts (``torch.__version__``) are allowed only in names that are matched, never written.
    """
    if not _DOTTED.fullmatch(text):
        return f"must be a dotted name such as '{prefix}.nn.Conv2D', got {text!r}"
    parts = text.split(".")
    if parts[0] != prefix:
        return f"must be a qualified {prefix} name, got {text!r}"
    if not dunders and any(_dunder(p) for p in parts):
        return f"must not name a dunder attribute, got {text!r}"
    return None


# Standard-library modules a rule may target instead of Paddle, for torch APIs whose counterpart
# is plain Python (`torch.jit.Final` → `typing.Final`): the import fixer adds `import <module>`.
STDLIB_TARGETS = ("typing", "contextlib", "re", "urllib.parse", "urllib.request")


def target_problem(text: str) -> str | None:
    """A rule's target: a qualified paddle name, or a name in one of ``STDLIB_TARGETS``."""
    for module in STDLIB_TARGETS:
        if text.startswith(module + ".") and dotted_name_problem(text, module.split(".")[0]) is None:
            return None
    return dotted_name_problem(text, "paddle")


def identifier_problem(text: str) -> str | None:
    """A parameter name."""
    if not _IDENTIFIER.fullmatch(text) or _dunder(text):
        return f"must be a parameter name, got {text!r}"
    return None


def value_problem(text: str) -> str | None:
    """A literal (``'mean'``, ``-1``, ``(1, 2)``, ``None``), a dotted name (``paddle.float32``),
    or a call of a ``paddle`` function with such arguments (``paddle.get_default_dtype()``).
    """
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return f"{text!r} is not a Python expression"
    bad = _unsafe(node)
    return None if bad is None else f"{text!r}: {bad} (only literals, names and paddle calls)"


def _unsafe(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant):
        return None
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = _dotted(node)
        if name is None:
            return "only plain dotted names are allowed"
        if any(_dunder(p) for p in name.split(".")):
            return "dunder names are not allowed"
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
        return _unsafe(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):  # start_factor=1.0 / 3
        return _unsafe(node.left) or _unsafe(node.right)
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return _first(_unsafe(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            return "dict unpacking is not allowed"
        return _first(_unsafe(e) for e in [*(k for k in node.keys if k is not None), *node.values])
    if isinstance(node, ast.Call):
        callee = _dotted(node.func)
        if callee is None or callee.split(".")[0] != "paddle" or any(_dunder(p) for p in callee.split(".")):
            return "only calls of paddle functions are allowed"
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return "argument unpacking is not allowed"
        return _first(_unsafe(e) for e in [*node.args, *(k.value for k in node.keywords)])
    return f"{type(node).__name__} expressions are not allowed"


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _first(problems: Iterable[str | None]) -> str | None:
    return next((p for p in problems if p is not None), None)
