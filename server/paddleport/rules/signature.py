"""Torch call signatures written as Python text, e.g. ``(input, dim=None, *, keepdim=False)``.

Rules state the torch signature so positional arguments can be named, renamed,
dropped or packed without guessing from the call site.
"""

from __future__ import annotations

import ast
import enum
from dataclasses import dataclass


class ParamKind(enum.Enum):
    POSITIONAL = "positional"  # may be passed by position or keyword
    VAR_POSITIONAL = "var_positional"  # *size
    KEYWORD_ONLY = "keyword_only"
    VAR_KEYWORD = "var_keyword"  # **kwargs


@dataclass(frozen=True)
class Param:
    name: str
    kind: ParamKind
    default: str | None  # source text of the default, None when required


@dataclass(frozen=True)
class Signature:
    text: str
    params: tuple[Param, ...]

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def get(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def positional(self) -> list[Param]:
        return [p for p in self.params if p.kind is ParamKind.POSITIONAL]

    @property
    def var_positional(self) -> Param | None:
        return next((p for p in self.params if p.kind is ParamKind.VAR_POSITIONAL), None)

    @property
    def var_keyword(self) -> Param | None:
        return next((p for p in self.params if p.kind is ParamKind.VAR_KEYWORD), None)


class SignatureError(ValueError):
    pass


def parse_signature(text: str) -> Signature:
    """Parse ``(a, b=1, *rest, c=None, **kw)``; raise SignatureError with the reason."""
    stripped = text.strip()
    if not (stripped.startswith("(") and stripped.endswith(")")):
        raise SignatureError("must be a parenthesised parameter list such as '(input, dim=None)'")
    try:
        tree = ast.parse(f"def _f{stripped}: pass")
    except SyntaxError as exc:
        raise SignatureError(f"not a valid parameter list: {exc.msg}") from None
    fn = tree.body[0]
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    params: list[Param] = []
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults))
    defaults += list(a.defaults)
    for arg, default in zip(positional, defaults, strict=True):
        params.append(Param(arg.arg, ParamKind.POSITIONAL, _src(default)))
    if a.vararg:
        params.append(Param(a.vararg.arg, ParamKind.VAR_POSITIONAL, None))
    for arg, kw_default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        params.append(Param(arg.arg, ParamKind.KEYWORD_ONLY, _src(kw_default)))
    if a.kwarg:
        params.append(Param(a.kwarg.arg, ParamKind.VAR_KEYWORD, None))
    return Signature(stripped, tuple(params))


def _src(node: ast.expr | None) -> str | None:
    return None if node is None else ast.unparse(node)
