"""Make a converted module's imports match what it uses.

A torch import goes only when nothing uses its names any more; ``import
paddle`` comes in when converted code needs it. Works on text edits at
statement granularity so the rest of the file stays byte-for-byte the same.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from paddleport.analysis.scopes import Scope, build_scope, dotted, import_bindings
from paddleport.analysis.source import SourceText
from paddleport.rewrite.edits import TextEdit, apply_edits
from paddleport.rules.safe_code import STDLIB_TARGETS

# classes a conversion writes into the file (rewrite/helpers.py, rewrite/adapters.py): their bodies use
# only their own names (`class GRU(paddle.nn.GRU)` there is not torch's GRU imported by the file)
GENERATED_CLASSES = frozenset({"_paddleport_vision", "_paddleport_layers"})

PADDLE_IMPORT = "import paddle"


@dataclass
class _ImportSite:
    node: ast.Import | ast.ImportFrom
    body: list[ast.stmt]  # the block that holds it
    module_level: bool
    fallback: frozenset[str] = frozenset()  # names an `except ImportError:` of its `try` binds instead


def fix_imports(text: str) -> str:
    """Drop unused torch imports and add ``import paddle`` where converted code needs it."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    src = SourceText(text)
    sites = _import_sites(tree)
    loads = _loads(tree)
    needs_paddle = "paddle" in loads and not _paddle_bound(sites)
    edits: list[TextEdit] = []
    paddle_placed = not needs_paddle
    torch_sites = _torch_sites(sites)
    for site in torch_sites:
        node = site.node
        bindings = import_bindings(node)
        # A name with a fallback definition stays imported: dropping the import would leave the
        # name unbound (the fallback never runs); without torch the fallback takes over.
        keep = [(name, path) for name, path in bindings
                if path is None or name in loads or name in site.fallback]  # fmt: skip
        if len(keep) == len(bindings):
            continue
        start, end = src.node_span(node)
        if keep:
            edits.append(TextEdit(start, end, _keep_only(text[start:end], {n for n, _ in keep})))
            continue
        if not paddle_placed and site.module_level:
            edits.append(TextEdit(start, end, PADDLE_IMPORT))
            paddle_placed = True
        elif len(site.body) == 1:
            edits.append(TextEdit(start, end, "pass"))
        else:
            edits.append(_delete_statement(src, node, start, end))
    if not paddle_placed:
        edits.append(_insert_paddle_import(src, tree, torch_sites))
    stdlib = _missing_stdlib(text, tree, sites)
    if stdlib:
        lines = "".join(f"import {m}{src.newline}" for m in stdlib)
        edits.append(_insert_import(src, tree, torch_sites, lines))
    return apply_edits(text, edits)


def _missing_stdlib(text: str, tree: ast.Module, sites: list[_ImportSite]) -> list[str]:
    """Standard-library modules that rules target (`typing.Final`) used in dotted form but not imported.

    Only the dotted spelling a rule writes counts (`typing.Final`), and only when the root
    name is bound nowhere in the module, so a user's own `typing` variable is never shadowed.
    Most files import these modules or never spell them: the text says so without a walk.
    """
    wanted = {m: m.split(".") for m in STDLIB_TARGETS}
    bound = {name for s in sites for name, _ in import_bindings(s.node)}
    roots = {parts[0] for parts in wanted.values()} - bound
    # `root` then `.`, maybe across spaces, line continuations, comments or a closing parenthesis
    if not roots or not re.search(rf"\b(?:{'|'.join(sorted(roots))})(?:\s|\\|\)|#[^\n]*\n)*\.", text):
        return []
    chains: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in roots and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in roots:
            bound.add(node.name)
        elif isinstance(node, ast.arg) and node.arg in roots:
            bound.add(node.arg)
        elif isinstance(node, ast.Attribute):
            chain = dotted(node)
            if chain is not None and chain[0] in roots:
                chains.append(chain)
    missing: set[str] = set()
    for chain in chains:
        if chain[0] in bound:
            continue
        for module, parts in wanted.items():
            if chain[: len(parts)] == parts and len(chain) > len(parts):
                missing.add(module)
    return sorted(missing)


def _import_sites(tree: ast.Module) -> list[_ImportSite]:
    """Import statements with the block that holds them (statements only: imports are statements)."""
    sites: list[_ImportSite] = []
    blocks: list[tuple[list[ast.stmt], bool, frozenset[str]]] = [(tree.body, True, frozenset())]
    while blocks:
        body, top, fallback = blocks.pop()
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                sites.append(_ImportSite(stmt, body, top, fallback))
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    names = _fallback_names(stmt) if field == "body" else frozenset()
                    blocks.append((inner, False, names))
            for handler in getattr(stmt, "handlers", ()):
                blocks.append((handler.body, False, frozenset()))
            for case in getattr(stmt, "cases", ()):
                blocks.append((case.body, False, frozenset()))
    return sites


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def _fallback_names(stmt: ast.stmt) -> frozenset[str]:
    """Names the ``except ImportError:`` handlers of a ``try`` bind (its fallback definitions)."""
    if not isinstance(stmt, (ast.Try, ast.TryStar)):
        return frozenset()
    names: set[str] = set()
    for handler in stmt.handlers:
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if not any(t is None or (isinstance(t, ast.Name) and t.id in _IMPORT_ERRORS) for t in types):
            continue
        for node in (n for s in handler.body for n in ast.walk(s)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update(name for name, _ in import_bindings(node))
    return frozenset(names)


def _exported(tree: ast.Module) -> set[str]:
    """Names a module lists in ``__all__``: it re-exports them, so their imports must stay."""
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets) and isinstance(
            value, (ast.List, ast.Tuple, ast.Set)
        ):
            names.update(e.value for e in value.elts if isinstance(e, ast.Constant) and type(e.value) is str)
    return names


def _loads(tree: ast.Module) -> set[str]:
    """Names loaded where they still resolve to a torch import (scope-aware), re-exported ones, `paddle`."""
    used: set[str] = _exported(tree)
    module = build_scope(None, None, tree.body, None)
    stack: list[tuple[ast.AST, Scope]] = [(s, module) for s in tree.body]
    while stack:
        node, scope = stack.pop()
        t = type(node)
        if t is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            if name == "paddle" or scope.lookup(name)[0] is not None:
                used.add(name)
            continue
        if t is ast.FunctionDef or t is ast.AsyncFunctionDef or t is ast.Lambda:
            assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            inner = build_scope(node, scope, node.body, node.args)
            for d in (*node.args.defaults, *(d for d in node.args.kw_defaults if d)):
                stack.append((d, scope))
            if isinstance(node, ast.Lambda):
                stack.append((node.body, inner))
            else:
                stack.extend((d, scope) for d in node.decorator_list)
                stack.extend((a, scope) for a in _annotations(node))
                stack.extend((s, inner) for s in node.body)
            continue
        if t is ast.Constant:
            continue
        if t is ast.ClassDef and node.name in GENERATED_CLASSES:  # type: ignore[attr-defined]
            used.add("paddle")  # paddleport's helpers use paddle and their own names only:
            continue  # `class FashionMNIST(MNIST)` there names its own member, not torchvision's
        stack.extend((child, scope) for child in ast.iter_child_nodes(node))
    return used


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    a = node.args
    out = [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg)
           if x is not None and x.annotation is not None]  # fmt: skip
    if node.returns is not None:
        out.append(node.returns)
    return out


def _torch_names(node: ast.Import | ast.ImportFrom) -> bool:
    return any(path is not None for _, path in import_bindings(node))


def _keep_only(statement: str, keep: set[str]) -> str:
    """Rewrite ``from torch import a, b`` to keep only the names still used."""
    parsed = cst.parse_statement(statement)
    assert isinstance(parsed, cst.SimpleStatementLine)
    imp = parsed.body[0]
    assert isinstance(imp, (cst.Import, cst.ImportFrom)) and not isinstance(imp.names, cst.ImportStar)
    names = []
    for alias in imp.names:
        bound = alias.evaluated_alias or alias.evaluated_name
        if isinstance(imp, cst.Import) and alias.asname is None:
            bound = bound.split(".", 1)[0]
        if bound in keep:
            names.append(alias)
    names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    new_imp = imp.with_changes(names=names)
    if isinstance(new_imp, cst.ImportFrom) and len(names) == 1 and new_imp.lpar:
        new_imp = new_imp.with_changes(lpar=None, rpar=None)
    return cst.Module([]).code_for_node(new_imp)


IMPORTABLE = ("paddle", *STDLIB_TARGETS)  # the modules converted code may name in dotted form
_MODULE_USE = {m: re.compile(rf"(?<![\w.]){re.escape(m)}\.") for m in IMPORTABLE}


def needed_modules(code: str) -> list[str]:
    """The modules (paddle, typing, …) that ``code`` names in dotted form."""
    return [m for m, pattern in _MODULE_USE.items() if pattern.search(code)]


def module_import_edit(text: str, modules: Sequence[str]) -> TextEdit | None:
    """The edit that adds ``import m`` for each of ``modules`` (paddle, or a plain-Python target such
    as typing) whose root name ``text`` does not bind at module level; None when nothing is missing.

    A single quick fix rewrites one use to ``paddle.…`` or ``typing.…``; it carries this edit so
    the file never uses an undefined name.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    sites = _import_sites(tree)
    bound = {name for s in sites if s.module_level for name, _ in import_bindings(s.node)}
    if any(m != "paddle" for m in modules):  # never shadow a module-level name the file defines
        bound |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        bound |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = [m for m in modules if m.split(".")[0] not in bound]
    if not missing:
        return None
    src = SourceText(text)
    lines = "".join(f"import {m}{src.newline}" for m in missing)
    return _insert_import(src, tree, _torch_sites(sites), lines)


def _paddle_bound(sites: list[_ImportSite]) -> bool:
    return any(name == "paddle" for s in sites if s.module_level for name, _ in import_bindings(s.node))


def _torch_sites(sites: list[_ImportSite]) -> list[_ImportSite]:
    """The imports that bind torch names, in source order."""
    torch_sites = [s for s in sites if _torch_names(s.node)]
    return sorted(torch_sites, key=lambda s: (s.node.lineno, s.node.col_offset))


def _delete_statement(src: SourceText, node: ast.stmt, start: int, end: int) -> TextEdit:
    """Delete whole lines when the statement owns them, else leave `pass` in its place."""
    line_start = src.line_starts[node.lineno - 1]
    end_line = node.end_lineno or node.lineno
    line_end = src.line_starts[end_line] if end_line < len(src.line_starts) else len(src.text)
    before = src.text[line_start:start]
    after = src.text[end:line_end]
    if not before.strip() and (not after.strip() or after.strip().startswith("#")):
        return TextEdit(line_start, line_end, "")
    return TextEdit(start, end, "pass")


def _insert_paddle_import(src: SourceText, tree: ast.Module, torch_sites: list[_ImportSite]) -> TextEdit:
    return _insert_import(src, tree, torch_sites, f"{PADDLE_IMPORT}{src.newline}")


def _insert_import(src: SourceText, tree: ast.Module, torch_sites: list[_ImportSite],
                   line_text: str) -> TextEdit:
    """An edit inserting ``line_text`` (whole import lines) where ``import paddle`` belongs."""
    nl = src.newline
    module_torch = [s for s in torch_sites if s.module_level and s.node in tree.body]
    if module_torch:
        anchor: ast.stmt | None = module_torch[0].node
    else:
        imports = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        anchor = None
        if imports:
            last = imports[-1]
            line = (last.end_lineno or last.lineno) + 1
            offset = src.line_starts[line - 1] if line - 1 < len(src.line_starts) else len(src.text)
            prefix = "" if src.text[:offset].endswith(("\n", "\r")) or not src.text else nl
            return TextEdit(offset, offset, f"{prefix}{line_text}")
        body = tree.body
        i = 0
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            i = 1
        while i < len(body) and isinstance(body[i], ast.ImportFrom) and body[i].module == "__future__":  # type: ignore[attr-defined]
            i += 1
        if i > 0:
            prev = body[i - 1]
            line = (prev.end_lineno or prev.lineno) + 1
            offset = src.line_starts[line - 1] if line - 1 < len(src.line_starts) else len(src.text)
            prefix = "" if src.text[:offset].endswith(("\n", "\r")) else nl
            return TextEdit(offset, offset, f"{prefix}{line_text}")
        anchor = body[0] if body else None
    if anchor is None:
        return TextEdit(0, 0, line_text)
    offset = src.line_starts[anchor.lineno - 1]
    return TextEdit(offset, offset, line_text)


def rename_modules(text: str, modules: dict[str, str]) -> str:
    """Point imports of a library's torch backend at its Paddle twin (``[[module]]`` rules).

    ``from einops.layers.torch import Rearrange`` → ``from einops.layers.paddle import
    Rearrange``; ``import einops.layers.torch as L`` likewise. A bare ``import
    einops.layers.torch`` binds ``einops``, and its uses spell the module out: it stays.
    """
    if not modules or not any(m in text for m in modules):
        return text
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text
    src = SourceText(text)
    edits: list[TextEdit] = []
    for site in _import_sites(tree):
        node = site.node
        if isinstance(node, ast.ImportFrom):
            if node.level or _twin(node.module or "", modules) is None:
                continue
        elif not any(a.asname and _twin(a.name, modules) for a in node.names):
            continue
        start, end = src.node_span(node)
        edits.append(TextEdit(start, end, _renamed(text[start:end], modules)))
    return apply_edits(text, edits)


def _twin(module: str, modules: dict[str, str]) -> str | None:
    """The Paddle module for ``module`` or for a submodule of a mapped module."""
    for torch_mod, paddle_mod in modules.items():
        if module == torch_mod or module.startswith(torch_mod + "."):
            return paddle_mod + module[len(torch_mod):]
    return None


def _renamed(statement: str, modules: dict[str, str]) -> str:
    parsed = cst.parse_statement(statement)
    assert isinstance(parsed, cst.SimpleStatementLine)
    imp = parsed.body[0]
    assert isinstance(imp, (cst.Import, cst.ImportFrom))
    empty = cst.Module([])
    if isinstance(imp, cst.ImportFrom):
        assert imp.module is not None
        twin = _twin(empty.code_for_node(imp.module), modules)
        assert twin is not None
        new: cst.Import | cst.ImportFrom = imp.with_changes(module=cst.parse_expression(twin))
    else:
        names = []
        for alias in imp.names:
            twin = _twin(empty.code_for_node(alias.name), modules) if alias.asname else None
            names.append(alias if twin is None else alias.with_changes(name=cst.parse_expression(twin)))
        new = imp.with_changes(names=names)
    return empty.code_for_node(new)
