"""Find what an equivalence check runs: the target definition and the call that exercises it.

Pure ``ast`` work, safe in the language-server process (no torch, no paddle).
A call comes from ``--example``, from a ``# paddleport: example <call>``
comment above the definition, or is derived from defaults and annotations;
when none works the error says exactly which example to write.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from paddleport.analysis.source import SourceText, split_lines

EXAMPLE_COMMENT = re.compile(r"^\s*#\s*paddleport:\s*example\s+(?P<call>.+?)\s*$")
DATA_HELPERS = ("randn", "rand", "randint", "arange", "zeros", "ones", "full", "tensor", "np")


class TargetError(ValueError):
    """The target or its example cannot be used; the message tells the user what to do."""


@dataclass
class Target:
    name: str
    kind: str  # "function" or "class"
    line: int  # 1-based line of the ``def``/``class`` keyword
    end_line: int
    first_line: int  # first decorator, where a code lens or comment goes
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass
class Call:
    """An example call split so each side can build the same inputs and call its own target."""

    text: str  # the whole call, as the user wrote it
    callee: str  # `attention` or, for a class, the constructor call `Block(64, 4)`
    arguments: str  # the parenthesised argument list, e.g. `(randn(2, 3), mask=None)`
    source: str  # "option", "comment" or "derived"


def top_level_targets(tree: ast.Module) -> list[Target]:
    out = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(_target(node))
    return out


def _target(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> Target:
    kind = "class" if isinstance(node, ast.ClassDef) else "function"
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return Target(node.name, kind, node.lineno, node.end_lineno or node.lineno, first, node)


def parse_module(text: str) -> ast.Module:
    try:
        return ast.parse(text)
    except SyntaxError as exc:
        raise TargetError(f"the file does not parse: line {exc.lineno}: {exc.msg}") from None


def find_target(text: str, name: str) -> Target:
    """The top-level function or class called ``name``."""
    targets = top_level_targets(parse_module(text))
    for t in targets:
        if t.name == name:
            return t
    known = ", ".join(t.name for t in targets) or "none"
    raise TargetError(f"no top-level function or class named {name!r} (defined here: {known})")


def target_at(text: str, line: int) -> Target | None:
    """The top-level function or class enclosing 1-based ``line`` (a method gives its class)."""
    for t in top_level_targets(parse_module(text)):
        if t.first_line <= line <= t.end_line:
            return t
    return None


def example_comment(text: str, target: Target) -> tuple[str, int] | None:
    """The ``# paddleport: example`` call in the comment block right above the definition."""
    lines = split_lines(text)
    i = target.first_line - 2
    while i >= 0 and lines[i].lstrip().startswith("#"):
        m = EXAMPLE_COMMENT.match(lines[i])
        if m:
            return m.group("call"), i + 1
        i -= 1
    return None


def split_call(text: str, target: Target, source: str) -> Call:
    """Check that ``text`` calls the target and split it into callee and arguments."""
    try:
        expr = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise TargetError(f"the example {text!r} is not a Python expression: {exc.msg}") from None
    if not isinstance(expr, ast.Call):
        raise TargetError(f"the example must be a call such as {suggest_call(target)!r}, not {text!r}")
    code = text.strip()
    callee = ast.get_source_segment(code, expr.func) or ""
    head = expr.func
    if target.kind == "class":
        built = head
        if isinstance(built, ast.Call) and _names(built.func, "init") and len(built.args) == 1:
            built = built.args[0]  # init(Block(64, 4)): the same seeded weights on both sides
        if not (isinstance(built, ast.Call) and _names(built.func, target.name)):
            raise TargetError(f"for a class the example constructs it and calls it: {suggest_call(target)!r}")
    elif not _names(head, target.name):
        raise TargetError(f"the example must call {target.name}: {suggest_call(target)!r}")
    end = _end_offset(code, head)
    return Call(code, callee, code[end:].strip(), source)


def definitions_only(text: str) -> str:
    """Blank top-level statements that do work (calls, loops, training), keeping line numbers.

    For notebooks, which have no ``if __name__ == "__main__":`` guard: imports,
    definitions and assignments without calls stay, so the target can be built
    without running the whole notebook.
    """
    tree = parse_module(text)
    lines = split_lines(text)
    keep = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    for node in tree.body:
        if isinstance(node, keep):
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and not any(
            isinstance(n, (ast.Call, ast.Await, ast.Yield)) for n in ast.walk(node)
        ):
            continue
        first, last = node.lineno - 1, (node.end_lineno or node.lineno) - 1
        for i in range(first, last + 1):
            lines[i] = ""
        lines[first] = "pass"
    return "\n".join(lines)


def _names(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _end_offset(code: str, node: ast.expr) -> int:
    end_line, end_col = node.end_lineno or 1, node.end_col_offset or 0
    return SourceText(code).offset(end_line, end_col)


def resolve_call(text: str, target: Target, example: str | None) -> Call:
    """The explicit example, else the comment, else a call derived from the signature."""
    if example:
        return split_call(example, target, "option")
    found = example_comment(text, target)
    if found:
        return split_call(found[0], target, "comment")
    derived = derive_call(target)
    if derived is None:
        call = suggest_call(target)
        missing = ", ".join(_underivable(target))
        raise TargetError(
            f"cannot make inputs for {target.name} ({missing}): give an example, e.g. "
            f'--example "{call}" or a comment above the definition: # paddleport: example {call}'
        )
    return split_call(derived, target, "derived")


# ---- deriving a call from the signature -------------------------------------------------

_SIMPLE = {"int": "2", "float": "0.5", "bool": "False"}


def _signature_of(target: Target) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """The functions whose parameters the call fills: (function, skip self)."""
    node = target.node
    if isinstance(node, ast.ClassDef):
        methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        out = []
        for name in ("__init__", "forward"):
            if name in methods:
                out.append((methods[name], True))
        return out
    return [(node, False)]


def _params(fn: ast.FunctionDef | ast.AsyncFunctionDef, skip_self: bool) -> list[tuple[ast.arg, bool]]:
    """(parameter, has default) for the positional and keyword-only parameters."""
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    if skip_self and positional:
        positional = positional[1:]
    n_default = len(a.defaults)
    out = [(p, i >= len(positional) - n_default) for i, p in enumerate(positional)]
    out += [(p, d is not None) for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
    return out


def _simple_value(arg: ast.arg) -> str | None:
    ann = arg.annotation
    if isinstance(ann, ast.Name) and ann.id in _SIMPLE:
        return _SIMPLE[ann.id]
    return None


def _arg_list(fn: ast.FunctionDef | ast.AsyncFunctionDef, skip_self: bool, guess: bool) -> str | None:
    parts = []
    for p, has_default in _params(fn, skip_self):
        if has_default:
            continue
        value = _simple_value(p)
        if value is None:
            if not guess:
                return None
            value = "randn(2, 3)"
        if p in fn.args.kwonlyargs:
            parts.append(f"{p.arg}={value}")
        else:
            parts.append(value)
    return "(" + ", ".join(parts) + ")"


def _call_text(target: Target, guess: bool) -> str | None:
    sig = dict((fn.name, (fn, skip)) for fn, skip in _signature_of(target))
    if target.kind == "function":
        fn, skip = sig[target.name]
        args = _arg_list(fn, skip, guess)
        return None if args is None else f"{target.name}{args}"
    init = "()" if "__init__" not in sig else _arg_list(*sig["__init__"], guess)
    forward = "()" if "forward" not in sig else _arg_list(*sig["forward"], guess)
    if init is None or forward is None:
        return None
    return f"{target.name}{init}{forward}"


def derive_call(target: Target) -> str | None:
    """A call from defaults and ``int``/``float``/``bool`` annotations, if all params have one."""
    return _call_text(target, guess=False)


def suggest_call(target: Target) -> str:
    """A call to start from when nothing can be derived: tensors become ``randn(2, 3)``."""
    return _call_text(target, guess=True) or f"{target.name}(randn(2, 3))"


def _underivable(target: Target) -> list[str]:
    out = []
    sigs = _signature_of(target)
    if target.kind == "class" and not any(fn.name == "forward" for fn, _ in sigs):
        out.append("no forward method")
    for fn, skip in sigs:
        for p, has_default in _params(fn, skip):
            if not has_default and _simple_value(p) is None:
                ann = f": {ast.unparse(p.annotation)}" if p.annotation is not None else ""
                what = "a shape" if "Tensor" in ann else "a value"
                out.append(f"parameter '{p.arg}{ann}' needs {what}")
    return out or ["no inputs"]
