"""Which names refer to torch in each scope.

Python decides a name's scope per function: a name bound anywhere in a
function body is local to all of it. That rule, applied to imports,
assignments and parameters, is what tells ``torch.add`` on the module from
``torch.add`` on a local that happens to be called ``torch``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda

# Packages whose names the analysis follows and the rules map (torchvision → paddle.vision).
TORCH_ROOTS = ("torch", "torchvision")


def is_torch_module(name: str) -> bool:
    """``torch``, ``torchvision`` or a submodule of one: a module the rules speak about."""
    return name.split(".", 1)[0] in TORCH_ROOTS


@dataclass
class Scope:
    node: ast.AST | None  # None for the module
    parent: Scope | None
    torch: dict[str, str] = field(default_factory=dict)  # name -> qualified torch path
    aliases: set[str] = field(default_factory=set)  # names in torch bound by assignment
    alias_values: set[int] = field(default_factory=set)  # id() of the values of those assignments
    defaults: set[str] = field(default_factory=set)  # parameters whose default is a torch class
    locals: set[str] = field(default_factory=set)  # every other name bound here
    tensors: dict[str, int] = field(default_factory=dict)  # name -> Confidence value
    # parameters annotated as lists of tensors (`grads: List[Tensor]`): their items are tensors
    tensor_lists: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)  # names bound by non-torch imports
    this_module: set[str] = field(default_factory=set)  # `d2l = sys.modules[__name__]`: the module itself
    # (target names, value) of simple assignments, for tensor inference
    assigns: list[tuple[list[str], ast.expr]] = field(default_factory=list)
    # names bound once to a device/dtype dict (`dd = {'device': device, 'dtype': dtype}`) -> the dict
    factories: dict[str, ast.expr] = field(default_factory=dict)
    splatted: set[str] = field(default_factory=set)  # factories seen as `**name` in a call
    factory_returns: list[ast.expr] = field(default_factory=list)  # return {'device': .., 'dtype': ..}
    # (target, iterable) of for loops, for object-type inference
    loops: list[tuple[ast.expr, ast.expr]] = field(default_factory=list)
    objects: dict[str, str] = field(default_factory=dict)  # name -> object type (objtypes)
    binds: dict[str, int] = field(default_factory=dict)  # name -> how many statements bind it
    augmented: dict[str, int] = field(default_factory=dict)  # name -> how many `name += ...` bind it
    roots: dict[str, str] = field(default_factory=dict)  # non-torch import name -> top package

    def is_module(self, name: str) -> bool:
        """True when ``name`` is bound by a non-torch import (np, math, paddle)."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.modules:
                return True
            if name in scope.locals or name in scope.torch:
                return False
            scope = scope.parent
        return False

    def is_tensor_list(self, name: str) -> bool:
        """True when ``name`` is, where it is read, a parameter annotated as a list of tensors."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.tensor_lists:
                return True
            if name in scope.locals or name in scope.tensors:
                return False
            scope = scope.parent
        return False

    def import_root(self, name: str) -> str | None:
        """The top package of a non-torch import that binds ``name`` here (``np`` → ``numpy``)."""
        scope: Scope | None = self
        while scope is not None:
            root = scope.roots.get(name)
            if root is not None:
                return root
            if name in scope.locals or name in scope.torch:
                return None
            scope = scope.parent
        return None

    def lookup(self, name: str) -> tuple[str | None, bool]:
        """The torch path a name refers to here (or None), and whether it is an alias."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.globals:
                scope = _module(scope)
                continue
            path = scope.torch.get(name)
            if path is not None:
                return path, name in scope.aliases
            if name in scope.locals:
                return None, False
            scope = scope.parent
        return None, False


def _module(scope: Scope) -> Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope


def _is_module_object(value: ast.expr) -> bool:
    """``sys.modules[...]`` or ``importlib.import_module(...)``: the value is a module."""
    if isinstance(value, ast.Subscript):
        v = value.value
        return (isinstance(v, ast.Attribute) and v.attr == "modules" and isinstance(v.value, ast.Name)
                and v.value.id == "sys")  # fmt: skip
    if isinstance(value, ast.Call):
        f = value.func
        return (isinstance(f, ast.Attribute) and f.attr == "import_module" and isinstance(f.value, ast.Name)
                and f.value.id == "importlib") or (isinstance(f, ast.Name) and f.id == "import_module")
    return False


def import_bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str | None]]:
    """(bound name, torch path or None) for each name an import statement binds."""
    out: list[tuple[str, str | None]] = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            is_torch = is_torch_module(alias.name)
            if alias.asname:
                out.append((alias.asname, alias.name if is_torch else None))
            else:
                root = alias.name.split(".", 1)[0]
                out.append((root, root if is_torch else None))
        return out
    module = node.module or ""
    is_torch = node.level == 0 and bool(module) and is_torch_module(module)
    for alias in node.names:
        if alias.name == "*":
            continue
        out.append((alias.asname or alias.name, f"{module}.{alias.name}" if is_torch else None))
    return out


class ScopeBuilder:
    """Collects the bindings of one scope, without entering nested scopes."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.assign_counts: dict[str, int] = scope.binds
        self.alias_candidates: dict[str, ast.expr] = {}
        self.module_assigns: set[str] = set()  # `d2l = sys.modules[__name__]`
        self.self_assigns: set[str] = set()  # ... of this very module

    def add_local(self, name: str) -> None:
        self.assign_counts[name] = self.assign_counts.get(name, 0) + 1
        self.scope.locals.add(name)

    def collect(self, body: list[ast.stmt] | ast.expr, args: ast.arguments | None) -> None:
        if args is not None:
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                self.add_local(a.arg)
            if args.vararg:
                self.add_local(args.vararg.arg)
            if args.kwarg:
                self.add_local(args.kwarg.arg)
        if isinstance(body, list):
            self._statements(body)
        for name in self.module_assigns:  # bound once, to a module object: a module like an import's
            if self.assign_counts.get(name) == 1:
                self.scope.modules.add(name)
                if name in self.self_assigns:
                    self.scope.this_module.add(name)
        # `torch` re-bound by an unrelated assignment (try: import torch / except: torch = None)
        # stays torch: the import is what the code relies on.
        self.scope.locals.difference_update(self.scope.torch)

    def _statements(self, body: list[ast.stmt]) -> None:
        """Walk statements only (not expressions): bindings live in statements' targets."""
        stack: list[ast.stmt] = list(body)
        while stack:
            node = stack.pop()
            t = type(node)
            if t is ast.FunctionDef or t is ast.AsyncFunctionDef or t is ast.ClassDef:
                self.add_local(node.name)  # type: ignore[attr-defined]
            elif t is ast.Import or t is ast.ImportFrom:
                for name, path in import_bindings(node):  # type: ignore[arg-type]
                    if path is not None:
                        self.scope.torch[name] = path
                    else:
                        self.add_local(name)
                        self.scope.modules.add(name)
                        root = _import_root(node, name)  # type: ignore[arg-type]
                        if root is not None:
                            self.scope.roots[name] = root
            elif t is ast.Assign:
                assert isinstance(node, ast.Assign)
                for target in node.targets:
                    self._bind(target)
                if len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        self.scope.assigns.append(([target.id], node.value))
                        if _is_module_object(node.value):
                            self.module_assigns.add(target.id)
                            value = node.value
                            if (isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Name)
                                    and value.slice.id == "__name__"):  # fmt: skip
                                self.self_assigns.add(target.id)
                        if is_factory_dict(node.value):
                            self.scope.factories[target.id] = node.value
                        if isinstance(node.value, (ast.Attribute, ast.Name)):
                            self.alias_candidates[target.id] = node.value
                    elif isinstance(target, ast.Tuple) and all(
                        isinstance(e, ast.Name) for e in target.elts
                    ):
                        names = [e.id for e in target.elts if isinstance(e, ast.Name)]
                        self.scope.assigns.append((names, node.value))
            elif t is ast.AnnAssign:
                assert isinstance(node, ast.AnnAssign)
                self._bind(node.target)
                if isinstance(node.target, ast.Name) and node.value is not None:
                    self.scope.assigns.append(([node.target.id], node.value))
            elif t is ast.AugAssign:
                self._bind(node.target)  # type: ignore[attr-defined]
                if isinstance(node.target, ast.Name):  # type: ignore[attr-defined]
                    name = node.target.id  # type: ignore[attr-defined]
                    self.scope.augmented[name] = self.scope.augmented.get(name, 0) + 1
            elif t is ast.Return:
                value = node.value  # type: ignore[attr-defined]
                if value is not None and is_factory_dict(value, both=True):
                    self.scope.factory_returns.append(value)
            elif t is ast.Global:
                self.scope.globals.update(node.names)  # type: ignore[attr-defined]
            elif t is ast.For or t is ast.AsyncFor:
                self._bind(node.target)  # type: ignore[attr-defined]
                self.scope.loops.append((node.target, node.iter))  # type: ignore[attr-defined]
                stack.extend(node.body)  # type: ignore[attr-defined]
                stack.extend(node.orelse)  # type: ignore[attr-defined]
            elif t is ast.With or t is ast.AsyncWith:
                for item in node.items:  # type: ignore[attr-defined]
                    if item.optional_vars is not None:
                        self._bind(item.optional_vars)
                stack.extend(node.body)  # type: ignore[attr-defined]
            elif t is ast.If or t is ast.While:
                stack.extend(node.body)  # type: ignore[attr-defined]
                stack.extend(node.orelse)  # type: ignore[attr-defined]
            elif t is ast.Try or t.__name__ == "TryStar":
                stack.extend(node.body)  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    if handler.name:
                        self.add_local(handler.name)
                    stack.extend(handler.body)
                stack.extend(node.orelse)  # type: ignore[attr-defined]
                stack.extend(node.finalbody)  # type: ignore[attr-defined]
            elif t is ast.Match:
                for case in node.cases:  # type: ignore[attr-defined]
                    for sub in ast.walk(case.pattern):
                        bound = getattr(sub, "name", None) or getattr(sub, "rest", None)
                        if isinstance(bound, str):
                            self.add_local(bound)
                    stack.extend(case.body)

    def _bind(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.add_local(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._bind(elt)
        elif isinstance(target, ast.Starred):
            self._bind(target.value)

    def resolve_factories(self) -> None:
        """A factory dict assigned more than once may hold anything: forget it."""
        for name in [n for n in self.scope.factories if self.assign_counts.get(n) != 1]:
            del self.scope.factories[name]

    def resolve_aliases(self) -> None:
        """`L = nn.Linear` assigned once makes `L` an alias of torch.nn.Linear."""
        for name, value in self.alias_candidates.items():
            if self.assign_counts.get(name) != 1 or name in self.scope.torch:
                continue
            path = resolve_chain(value, self.scope)
            if path is not None:
                self.scope.torch[name] = path
                self.scope.aliases.add(name)
                self.scope.alias_values.add(id(value))
                self.scope.locals.discard(name)


FACTORY_KEYS = frozenset({"device", "dtype"})


def is_factory_dict(node: ast.expr, *, both: bool = False) -> bool:
    """``{'device': device, 'dtype': dtype}`` or ``dict(device=..., dtype=...)``.

    The keyword dict torch's own ``nn`` code (``factory_kwargs``) and timm (``dd``) pass as
    ``**dd`` to every layer and tensor factory. ``both``: the keys are exactly device and
    dtype (a helper returning such a dict).
    """
    if isinstance(node, ast.Dict):
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict"
            and not node.args):  # fmt: skip
        keys = [kw.arg for kw in node.keywords]
    else:
        return False
    if not keys or not all(k in FACTORY_KEYS for k in keys):
        return False
    return not both or set(keys) == FACTORY_KEYS


def _import_root(node: ast.Import | ast.ImportFrom, name: str) -> str | None:
    """The top package an import binds ``name`` from (``np`` → numpy, ``nn`` → paddle)."""
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".", 1)[0] or None if node.level == 0 else None
    for a in node.names:
        if (a.asname or a.name.split(".", 1)[0]) == name:
            return a.name.split(".", 1)[0]
    return None


def dotted(node: ast.expr) -> list[str] | None:
    """['nn', 'functional', 'relu'] for nn.functional.relu; None if not a plain chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    parts.reverse()
    return parts


def resolve_chain(node: ast.expr, scope: Scope) -> str | None:
    parts = dotted(node)
    if parts is None:
        return None
    base, _ = scope.lookup(parts[0])
    if base is None:
        return None
    return ".".join([base, *parts[1:]])


def build_scope(node: ast.AST | None, parent: Scope | None, body: list[ast.stmt] | ast.expr,
                args: ast.arguments | None) -> Scope:  # fmt: skip
    scope = Scope(node=node, parent=parent)
    builder = ScopeBuilder(scope)
    builder.collect(body, args)
    builder.resolve_aliases()
    builder.resolve_factories()
    return scope
