"""Does a converted program still need torch? The verdict behind ``convert``'s summary and exit code.

Judged on the converted text itself, so nothing the conversion missed can hide:
every remaining import of torch, torchvision or torchaudio (any form, at any
depth, ``__import__``/``importlib.import_module`` with a literal name too) and
every remaining use of a torch name is a blocker. Two import sites do not
block: one inside ``try:`` whose handler catches ImportError (the program has
a fallback) and one under ``if TYPE_CHECKING:`` (never runs). Uses of torch
names always block, even inside such a ``try``: the fallback is the user's to
check. Tensor methods left as written (a receiver the analysis could not
type) do not need torch; they are listed as manual items instead.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from paddleport.analysis.finder import analyze
from paddleport.analysis.source import SourceText
from paddleport.analysis.uses import UseKind
from paddleport.rewrite.convert import Conversion
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Tier

TORCH_PACKAGES = ("torch", "torchvision", "torchaudio")

# Blocking: the item keeps the converted file tied to torch.
IMPORT = "import"  # a torch/torchvision/torchaudio import that runs
BLOCKING = "blocking"  # a use of a torch name that stays
# Not blocking.
OPTIONAL = "optional"  # an import with a fallback (try/except ImportError) or for type checkers only
MANUAL = "manual"  # a tensor method left as written: port by hand or confirm
REVIEW = "review"  # converted, but a human should check a documented difference
BLOCKING_KINDS = (IMPORT, BLOCKING)

# Uses resolved through a torch name (not through a receiver's guessed type).
_NAME_KINDS = frozenset({UseKind.CALL, UseKind.REFERENCE, UseKind.BASE, UseKind.TYPE_CHECK,
                         UseKind.ANNOTATION, UseKind.ATTRIBUTE})  # fmt: skip
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from|import)[ \t]+((?:torch|torchvision|torchaudio)\b[\w.]*)", re.M)


@dataclass(frozen=True, order=True)
class Item:
    """One thing a human should know about a converted file, at its place in the converted code."""

    line: int  # 1-based
    col: int  # 0-based character column (shown 1-based, as `check` does)
    kind: str  # IMPORT, BLOCKING, OPTIONAL, MANUAL or REVIEW
    api: str  # the torch API, or for an import the module it imports
    message: str

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING_KINDS

    @property
    def where(self) -> str:
        return f"{self.line}:{self.col + 1}"

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "col": self.col + 1, "kind": self.kind, "api": self.api,
                "message": self.message}  # fmt: skip


def _root(module: str) -> str | None:
    root = module.split(".", 1)[0]
    return root if root in TORCH_PACKAGES else None


def _catches_import_error(node: ast.Try | ast.TryStar) -> bool:
    for handler in node.handlers:
        if handler.type is None:
            return True
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        for t in types:
            name = t.attr if isinstance(t, ast.Attribute) else t.id if isinstance(t, ast.Name) else ""
            if name in _IMPORT_ERRORS:
                return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dynamic_import(node: ast.Call) -> str | None:
    """``__import__("torch")`` or ``importlib.import_module("torch.nn")``: the module name."""
    f = node.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
    if name not in ("__import__", "import_module") or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str) and _root(first.value):
        return first.value
    return None


def torch_imports(code: str) -> list[Item]:
    """Every import of torch, torchvision or torchaudio in ``code``, as IMPORT or OPTIONAL items."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # cannot tell the forms apart: every import line counts
        src = SourceText(code)
        why = "still imported (the file does not parse)"
        return [Item(*src.position(m.start(1)), IMPORT, m.group(1), why) for m in _IMPORT_LINE.finditer(code)]
    src = SourceText(code)
    items: list[Item] = []
    stack: list[tuple[ast.AST, str | None]] = [(tree, None)]  # node, why it is optional
    while stack:
        node, optional = stack.pop()
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names if _root(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and _root(node.module):
                modules = [node.module]
        elif isinstance(node, ast.Call):
            dynamic = _dynamic_import(node)
            modules = [dynamic] if dynamic else []
        for module in modules:
            line, col = src.position(src.offset(node.lineno, node.col_offset))  # type: ignore[attr-defined]
            statement = src.line_text(line).strip()
            why = optional or f"runs: the file needs {_root(module)}"
            items.append(Item(line, col, OPTIONAL if optional else IMPORT, module, f"`{statement}` {why}"))
        if isinstance(node, (ast.Try, ast.TryStar)):
            fallback = "has a fallback (except ImportError)" if _catches_import_error(node) else None
            inner = optional or fallback
            stack.extend((s, inner) for s in node.body)
            for field in ("handlers", "orelse", "finalbody"):
                stack.extend((s, optional) for s in getattr(node, field))
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend((s, "is for type checkers only (if TYPE_CHECKING)") for s in node.body)
            stack.extend((s, optional) for s in node.orelse)
            continue
        stack.extend((child, optional) for child in ast.iter_child_nodes(node))
    return sorted(items)


def file_items(conv: Conversion, planner: Planner) -> list[Item]:
    """Blockers, optional imports, manual and review items of one conversion, sorted by place."""
    items = torch_imports(conv.code)
    analysis = analyze(conv.code, planner.rules)  # no uses when it does not parse
    for use in analysis.uses:
        if use.kind in _NAME_KINDS and not use.via_default:
            line, col = analysis.source.position(use.focus_start)
            items.append(Item(line, col, BLOCKING, use.api, planner.fix(use, conv.code).message))
    for o in conv.outcomes:
        if o.use.kind is UseKind.IMPORT or o.fix.is_noop or o.at is None:
            continue
        if not o.applied and o.use.kind not in _NAME_KINDS:
            items.append(Item(*o.at, MANUAL, o.use.api, o.fix.message))
        elif o.applied and o.fix.tier is Tier.REVIEW:
            items.append(Item(*o.at, REVIEW, o.use.api, o.fix.message))
    return sorted(set(items))


def needs_torch(items: list[Item]) -> bool:
    return any(i.blocking for i in items)
