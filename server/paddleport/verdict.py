"""Does a converted program still need torch? The verdict behind ``convert``'s summary and exit code.

Judged on the converted text itself, so nothing the conversion missed can hide:
every remaining import of torch, torchvision or torchaudio (any form, at any
depth, ``__import__``/``importlib.import_module`` with a literal name too) and
every remaining use of a torch-family name is a blocker. Two import sites do
not block: one inside ``try:`` whose handler catches ImportError (the program
has a fallback) and one under ``if TYPE_CHECKING:`` (never runs); they and the
uses of names only they bind are listed as optional (that code needs torch
when it runs, the program as a whole does not). Tensor methods left as
written (a receiver the analysis could not type) do not need torch; they are
listed as manual items, and conversions to review as review items.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from paddleport.analysis.finder import analyze
from paddleport.analysis.scopes import dotted
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
                         UseKind.ANNOTATION, UseKind.ATTRIBUTE, UseKind.LOOKUP})  # fmt: skip
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
_BLOCK_PARTS = (ast.stmt, ast.excepthandler, ast.match_case)
_MAYBE_IMPORT = re.compile(r"\b(?:import|from)\s+(?:torch|torchvision|torchaudio)\b|__import__|import_module")
_IDENT = re.compile(r"[^\W\d]\w*")
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


@dataclass
class _Scan:
    imports: list[Item]
    required: dict[str, str]  # name bound by an import that runs -> the module path it binds
    optional: dict[str, str]  # name bound only by optional imports -> path
    tree: ast.Module | None


def _bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    """(bound name, dotted path) for the torch-family names an import binds."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".", 1)[0], a.name if a.asname else a.name.split(".", 1)[0])
                for a in node.names if _root(a.name)]  # fmt: skip
    if node.level or not node.module or not _root(node.module):
        return []
    return [(a.asname or a.name, f"{node.module}.{a.name}") for a in node.names if a.name != "*"]


def _scan(code: str) -> _Scan:
    if _MAYBE_IMPORT.search(code) is None:  # most converted files: no parse, no walk
        return _Scan([], {}, {}, None)
    try:
        tree = ast.parse(code)
    except SyntaxError:  # cannot tell the forms apart: every import line counts
        src = SourceText(code)
        why = "still imported (the file does not parse)"
        lines = _IMPORT_LINE.finditer(code)
        return _Scan([Item(*src.position(m.start(1)), IMPORT, m.group(1), why) for m in lines], {}, {}, None)
    src = SourceText(code)
    scan = _Scan([], {}, {}, tree)
    # Imports are statements: walk statements only, expressions too when a dynamic import may be there.
    dynamic_too = "__import__" in code or "import_module" in code
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
        if modules and isinstance(node, (ast.Import, ast.ImportFrom)):
            (scan.optional if optional else scan.required).update(_bindings(node))
        for module in modules:
            line, col = src.position(src.offset(node.lineno, node.col_offset))  # type: ignore[attr-defined]
            statement = src.line_text(line).strip()
            why = f"`{statement}` {optional or f'runs: the file needs {_root(module)}'}"
            scan.imports.append(Item(line, col, OPTIONAL if optional else IMPORT, module, why))
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
        stack.extend((child, optional) for child in ast.iter_child_nodes(node)
                     if dynamic_too or isinstance(child, _BLOCK_PARTS))  # fmt: skip
    for name in scan.required:
        scan.optional.pop(name, None)
    return scan


def torch_imports(code: str) -> list[Item]:
    """Every import of torch, torchvision or torchaudio in ``code``, as IMPORT or OPTIONAL items."""
    return sorted(_scan(code).imports)


_OPTIONAL_USE = "uses a name from an import with a fallback: this code needs {root} when it runs"
_VALUE_USE = ("`{name}` stays: paddleport converts calls and attributes of torch names, not the module "
              "used as a value (hasattr, getattr, passed on): port by hand")  # fmt: skip
_NO_RULES = "`{name}` stays: {root} has no paddleport rules yet: port by hand (paddle.vision, paddle.audio)"


def _name_items(scan: _Scan, src: SourceText, seen: set[int]) -> list[Item]:
    """Torch-family names the analysis does not report: bare modules, torchvision, torchaudio."""
    items: list[Item] = []
    if scan.tree is None:
        return items
    bound = {**scan.optional, **scan.required}
    stack: list[ast.AST] = [scan.tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Attribute, ast.Name)) and isinstance(node.ctx, ast.Load):
            parts = dotted(node)
            if parts is not None and parts[0] in bound:
                start = src.offset(node.lineno, node.col_offset)
                if start not in seen:
                    path = ".".join([bound[parts[0]], *parts[1:]])
                    root = _root(path) or "torch"
                    kind = OPTIONAL if parts[0] in scan.optional else BLOCKING
                    why = _VALUE_USE if root == "torch" else _NO_RULES
                    if kind == OPTIONAL:
                        why = _OPTIONAL_USE
                    items.append(Item(*src.position(start), kind, path, why.format(name=path, root=root)))
                continue
        stack.extend(ast.iter_child_nodes(node))
    return items


def file_items(conv: Conversion, planner: Planner) -> list[Item]:
    """Blockers, optional imports, manual and review items of one conversion, sorted by place."""
    scan = _scan(conv.code)
    items = list(scan.imports)
    # Torch names resolve through imports: without one, no use of torch is left to find.
    analysis = analyze(conv.code if scan.imports else "", planner.rules)
    seen: set[int] = set()
    for use in analysis.uses:
        seen.add(use.focus_start)
        if use.kind in _NAME_KINDS and not use.via_default:
            line, col = analysis.source.position(use.focus_start)
            root = _IDENT.match(conv.code, use.focus_start)
            if root is not None and root.group() in scan.optional:
                message = _OPTIONAL_USE.format(root=_root(scan.optional[root.group()]))
                items.append(Item(line, col, OPTIONAL, use.api, message))
            else:
                items.append(Item(line, col, BLOCKING, use.api, planner.fix(use, conv.code).message))
    if scan.imports:
        items += _name_items(scan, analysis.source, seen)
    blocked = {(i.line, i.col) for i in items if i.kind in (BLOCKING, OPTIONAL)}
    for o in conv.outcomes:
        if o.use.kind is UseKind.IMPORT or o.fix.is_noop or o.at is None:
            continue
        if not o.applied and o.at not in blocked:  # e.g. a tensor method, or a call through an alias
            items.append(Item(*o.at, MANUAL, o.use.api, o.fix.message))
        elif o.applied and o.fix.tier is Tier.REVIEW:
            items.append(Item(*o.at, REVIEW, o.use.api, o.fix.message))
    return sorted(set(items))


def needs_torch(items: list[Item]) -> bool:
    return any(i.blocking for i in items)
