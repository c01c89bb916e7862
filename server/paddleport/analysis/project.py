"""What a whole project tells about one of its files: the project index.

``paddleport convert`` reads every module of the project once (``ast`` only,
in parallel) and records, per module, plain data: what each top-level name is
bound to, what each function returns (a tensor, one of its parameters, another
function's result), each class's project bases and ``self.x`` attributes, and
every call of a project function with how sure the caller is that each
argument is a tensor. From that, a file's analysis learns that ``y`` in
``y = helper(x); y.reshape(...)`` is a tensor when ``helper`` (maybe imported
from another file) returns one, and that an untyped parameter is a tensor when
every call of its function in the project passes one. This replaces per-file
jedi inference: same answers for these receivers, at a fraction of the time.

The index is built only for batch conversion, never on the editor's typing path.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from paddleport.analysis.scopes import is_torch_module
from paddleport.analysis.uses import Confidence

# A return alternative: (TENSOR, conf) | (PARAM, index) | (CALL, callee, args)
# where args is a tuple of per-positional-argument descriptors: a confidence
# (int) or -1 - i for "the caller's parameter i".
TENSOR, PARAM, CALL = "tensor", "param", "call"
Ret = tuple[str, int] | tuple[str, "Callee", tuple[int, ...]]
# A callee as written: (class context or "", dotted name parts). ("Foo", ("self", "m")) is self.m in Foo.
Callee = tuple[str, tuple[str, ...]]

_MAX_DEPTH = 8
_MAX_EXTRA_FILES = 3000
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod", "property", "abstractmethod"})


@dataclass
class FunctionInfo:
    """A function or method: parameter names (without self/cls) and what it returns."""

    params: tuple[str, ...]
    returns: list[Ret] = field(default_factory=list)
    escapes: bool = False  # decorated: called by someone we cannot see


@dataclass
class ClassInfo:
    bases: tuple[tuple[str, ...], ...]  # dotted parts as written
    tensors: dict[str, int] = field(default_factory=dict)  # self.x holding a tensor
    instances: dict[str, tuple[str, ...]] = field(default_factory=dict)  # self.x = Foo(...)


@dataclass
class CallSite:
    callee: Callee
    args: tuple[int, ...]  # confidence that each positional argument is a tensor
    keywords: tuple[tuple[str, int], ...]
    open_ended: bool  # *args or **kwargs: parameters past what is written are unknown


@dataclass
class ModuleSummary:
    """One module, as plain data (it crosses process boundaries)."""

    name: str
    is_package: bool
    imports: dict[str, str] = field(default_factory=dict)  # local name -> absolute dotted target
    star_imports: list[str] = field(default_factory=list)
    exports: list[str] | None = None  # its `__all__`, when it lists one
    functions: dict[str, FunctionInfo] = field(default_factory=dict)  # "f" or "Cls.m"
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    calls: list[CallSite] = field(default_factory=list)
    escapes: set[Callee] = field(default_factory=set)  # project names used as values, not called


# -- module names and files --------------------------------------------------


def module_name(path: Path) -> tuple[str, bool]:
    """Dotted module name of ``path`` from its package structure, and whether it is a package."""
    path = path.resolve()
    is_package = path.name == "__init__.py"
    parts = [] if is_package else [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.append(folder.name)
        folder = folder.parent
    parts.reverse()
    return ".".join(parts) or path.stem, is_package


def top_package(path: Path) -> Path | None:
    """The outermost package folder holding ``path`` (``.../timm`` for ``timm/models/vit.py``)."""
    folder = path.resolve().parent
    top = None
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        top = folder
        folder = folder.parent
    return top


def project_files(paths: Iterable[Path]) -> list[Path]:
    """The converted files plus the other modules of the packages they belong to."""
    from paddleport.files import python_files

    seen = {p.resolve() for p in paths}
    extra: list[Path] = []
    for top in sorted({t for t in (top_package(p) for p in seen) if t is not None}):
        for path in python_files(top):
            if path.suffix == ".py" and path.resolve() not in seen and len(extra) < _MAX_EXTRA_FILES:
                seen.add(path.resolve())
                extra.append(path)
    return extra


def absolute_import(module: str, is_package: bool, level: int, target: str | None) -> str | None:
    """``from ..x import y`` seen in ``module`` → the absolute package name ``a.x``."""
    if level == 0:
        return target
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if target:
        base.append(target)
    return ".".join(base) or None


def import_map(tree: ast.Module, module: str, is_package: bool) -> tuple[dict[str, str], list[str]]:
    """Module-level import bindings (also inside top-level if/try): name → absolute dotted target."""
    out: dict[str, str] = {}
    stars: list[str] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    out[alias.asname] = alias.name
                else:
                    root = alias.name.split(".", 1)[0]
                    out.setdefault(root, root)
        elif isinstance(node, ast.ImportFrom):
            base = absolute_import(module, is_package, node.level, node.module)
            if base is None:
                continue
            for alias in node.names:
                if alias.name == "*":
                    stars.append(base)
                else:
                    out[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, (ast.If, ast.Try)):
            stack.extend(node.body)
            stack.extend(node.orelse)
            if isinstance(node, ast.Try):
                stack.extend(node.finalbody)
                for handler in node.handlers:
                    stack.extend(handler.body)
    return out, stars


def _exports(tree: ast.Module) -> list[str] | None:
    """A module's literal ``__all__``, or None when it has none (a star import copies public names)."""
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign) or not isinstance(stmt.value, (ast.List, ast.Tuple)):
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in stmt.targets):
            elts = stmt.value.elts
            return [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return None


# -- the index ---------------------------------------------------------------

Key = tuple[str, str]  # (module, "f" | "Cls" | "Cls.m")


class ProjectIndex:
    """Every module's summary, with name resolution across files and call-site facts."""

    def __init__(self, summaries: Iterable[ModuleSummary],
                 load: Callable[[str], ModuleSummary | None] | None = None) -> None:  # fmt: skip
        """``load`` reads a module on first use (few files converted in a large package)."""
        self.modules: dict[str, ModuleSummary] = {s.name: s for s in summaries}
        self._load = load
        self._missing: set[str] = set()
        self._returns: dict[tuple[Key, tuple[int, ...]], int] = {}
        self._callees: dict[tuple[str, Callee], tuple[Key, int] | None] = {}
        self.param_tensors: dict[Key, dict[str, int]] = {}
        self._collect_call_sites()

    # name resolution

    def resolve(self, module: str, parts: Iterable[str], depth: int = 0) -> Key | None:
        """What a dotted name written in ``module`` refers to, following imports and re-exports."""
        parts = tuple(parts)
        summary = self.module(module)
        if summary is None or not parts or depth > _MAX_DEPTH:
            return None
        head, rest = parts[0], parts[1:]
        if head in summary.classes:
            return (module, head) if not rest else None  # Cls.m(obj, ...) would shift the arguments
        if head in summary.functions:
            return (module, head) if not rest else None
        target = summary.imports.get(head)
        if target is not None:
            return self.resolve_absolute(f"{target}.{'.'.join(rest)}" if rest else target, depth + 1)
        for star in summary.star_imports:
            found = self.resolve(star, parts, depth + 1)
            if found is not None:
                return found
        return None

    def star_torch(self, module: str, depth: int = 0) -> dict[str, str]:
        """Torch modules a ``from .m import *`` of ``module`` binds: ``m``'s own public torch imports
        (``torch``, ``F``, ``nn``, which Python's star import copies when ``m`` has no ``__all__``)."""
        summary = self.module(module)
        out: dict[str, str] = {}
        if summary is None or depth > _MAX_DEPTH:
            return out
        for star in summary.star_imports:
            source = self.module(star)
            if source is None:
                continue
            names = {**self.star_torch(star, depth + 1),
                     **{n: t for n, t in source.imports.items() if is_torch_module(t)}}  # fmt: skip
            for name, target in names.items():
                public = name in source.exports if source.exports is not None else not name.startswith("_")
                if public:
                    out.setdefault(name, target)
        return out

    def resolve_absolute(self, dotted_name: str, depth: int = 0) -> Key | None:
        """``timm.layers.to_2tuple`` → the module that defines it and its name there."""
        parts = dotted_name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:k])
            if self.module(module) is not None:
                return self.resolve(module, parts[k:], depth)
        return None

    def module(self, name: str) -> ModuleSummary | None:
        found = self.modules.get(name)
        if found is None and self._load is not None and name not in self._missing:
            found = self._load(name)
            if found is None:
                self._missing.add(name)
            else:
                self.modules[name] = found
        return found

    def function(self, key: Key) -> FunctionInfo | None:
        summary = self.module(key[0])
        return summary.functions.get(key[1]) if summary is not None else None

    def class_info(self, key: Key) -> ClassInfo | None:
        summary = self.module(key[0])
        return summary.classes.get(key[1]) if summary is not None else None

    def mro(self, key: Key) -> Iterator[Key]:
        """The class and its project base classes, depth first."""
        seen: set[Key] = set()
        stack = [key]
        while stack and len(seen) < 32:
            k = stack.pop(0)
            if k in seen:
                continue
            seen.add(k)
            info = self.class_info(k)
            if info is None:
                continue
            yield k
            for base in info.bases:
                found = self.resolve(k[0], base)
                if found is not None:
                    stack.append(found)

    def method(self, cls: Key, name: str) -> Key | None:
        for k in self.mro(cls):
            if f"{k[1]}.{name}" in self.modules[k[0]].functions:
                return k[0], f"{k[1]}.{name}"
        return None

    def callee(self, module: str, callee: Callee) -> tuple[Key, int] | None:
        """The function a call reaches and how many leading parameters the call fills implicitly.

        Plain names reach functions; ``self.m(...)`` a method of the class or a base;
        ``self.x(...)`` the ``forward`` of the project module class ``self.x`` holds.
        """
        memo = (module, callee)
        if memo in self._callees:
            return self._callees[memo]
        found = self._callee(module, callee)
        self._callees[memo] = found
        return found

    def _callee(self, module: str, callee: Callee) -> tuple[Key, int] | None:
        cls, parts = callee
        if parts[0] == "self" and cls:
            if len(parts) != 2:
                return None
            here = (module, cls)
            found = self.method(here, parts[1])
            if found is not None:
                return found, 0
            for k in self.mro(here):
                made = self.modules[k[0]].classes[k[1]].instances.get(parts[1])
                if made is not None:
                    target = self.resolve(k[0], made)
                    if target is not None and self.class_info(target) is not None:
                        fwd = self.method(target, "forward")
                        return (fwd, 0) if fwd is not None else None
                    return None
            return None
        key = self.resolve(module, parts)
        if key is None or self.function(key) is None:
            return None
        return key, 0

    def attribute_conf(self, module: str, cls: str, attr: str) -> int:
        """How sure we are that ``self.<attr>`` holds a tensor in class ``cls`` (bases included)."""
        for k in self.mro((module, cls)):
            conf = self.modules[k[0]].classes[k[1]].tensors.get(attr)
            if conf:
                return conf
        return 0

    # returns

    def returns_conf(self, key: Key, args: tuple[int, ...], depth: int = 0) -> int:
        """How sure we are that calling ``key`` with arguments of these tensor confidences gives a tensor."""
        memo_key = (key, args)
        hit = self._returns.get(memo_key)
        if hit is not None:
            return hit
        self._returns[memo_key] = 0  # recursion guard
        info = self.function(key)
        conf = 0
        if info is not None and info.returns and depth <= _MAX_DEPTH:
            conf = Confidence.HIGH
            for ret in info.returns:
                conf = min(conf, self._alternative(key[0], ret, args, depth))
                if not conf:
                    break
        self._returns[memo_key] = conf
        return conf

    def _alternative(self, module: str, ret: Ret, args: tuple[int, ...], depth: int) -> int:
        if len(ret) == 2:
            kind, value = ret
            assert isinstance(value, int)
            if kind == TENSOR:
                return value
            return min(args[value], Confidence.MEDIUM) if value < len(args) else 0
        _, callee, spec = ret
        found = self.callee(module, callee)
        if found is None:
            return 0
        values = tuple(d if d >= 0 else (args[-1 - d] if -1 - d < len(args) else 0) for d in spec)
        return self.returns_conf(found[0], values, depth + 1)

    # call sites

    def _collect_call_sites(self) -> None:
        """A parameter is a tensor when every call in the project passes one and nothing else can call it."""
        escaped: set[Key] = set()
        for summary in list(self.modules.values()):
            for callee in summary.escapes:
                found = self.callee(summary.name, callee)
                if found is not None:
                    escaped.add(found[0])
        lowest: dict[Key, dict[str, int]] = {}
        for summary in list(self.modules.values()):
            for site in summary.calls:
                found = self.callee(summary.name, site.callee)
                if found is None:
                    continue
                key, skip = found
                info = self.function(key)
                if info is None:
                    continue
                params = info.params[skip:]
                seen: dict[str, int] = {p: 0 for p in params}
                for p, conf in zip(params, site.args, strict=False):
                    seen[p] = conf
                for name, conf in site.keywords:
                    if name in seen:
                        seen[name] = conf
                if site.open_ended:
                    written = set(params[: len(site.args)]) | {n for n, _ in site.keywords}
                    for p in params:
                        if p not in written:
                            seen[p] = 0
                mins = lowest.setdefault(key, dict(seen))
                for p, conf in seen.items():
                    mins[p] = min(mins.get(p, 0), conf)
        for key, mins in lowest.items():
            info = self.function(key)
            if key in escaped or info is None or info.escapes:
                continue
            tensors = {p: Confidence.MEDIUM for p, conf in mins.items() if conf >= Confidence.MEDIUM}
            if tensors:
                self.param_tensors[key] = dict(tensors)

    def facts(self, module: str) -> ModuleFacts:
        return ModuleFacts(self, module)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_load": None}  # a loader stays in its process


class ModuleFacts:
    """What the finder asks about one module of an indexed project."""

    recording = False

    def __init__(self, index: ProjectIndex, module: str) -> None:
        self.index = index
        self.module = module

    def params(self, qual: str) -> dict[str, int]:
        return self.index.param_tensors.get((self.module, qual), {})

    def call_conf(self, cls: str, parts: list[str], args: list[ast.expr],
                  conf_of: Callable[[ast.expr], int]) -> int:  # fmt: skip
        found = self.index.callee(self.module, (cls, tuple(parts)))
        if found is None:
            return 0
        confs = tuple(0 if isinstance(a, ast.Starred) else conf_of(a) for a in args)
        return self.index.returns_conf(found[0], confs)

    def attribute_conf(self, cls: str, attr: str) -> int:
        return self.index.attribute_conf(self.module, cls, attr) if cls else 0

    def star_torch(self) -> dict[str, str]:
        """Torch modules this module's ``from .m import *`` statements bind (see ProjectIndex)."""
        return self.index.star_torch(self.module)


class Recorder(ModuleFacts):
    """Pass one: the finder reports functions, classes and calls into a ``ModuleSummary``."""

    recording = True

    def __init__(self, module: str, is_package: bool) -> None:
        self.summary = ModuleSummary(module, is_package)
        self.module = module

    def params(self, qual: str) -> dict[str, int]:
        return {}

    def call_conf(self, cls: str, parts: list[str], args: list[ast.expr],
                  conf_of: Callable[[ast.expr], int]) -> int:  # fmt: skip
        return 0

    def attribute_conf(self, cls: str, attr: str) -> int:
        return 0

    def star_torch(self) -> dict[str, str]:
        return {}

    def enter_module(self, tree: ast.Module) -> None:
        self.summary.imports, self.summary.star_imports = import_map(
            tree, self.summary.name, self.summary.is_package)
        self.summary.exports = _exports(tree)

    def add_function(self, qual: str, info: FunctionInfo) -> None:
        self.summary.functions[qual] = info

    def add_class(self, name: str, info: ClassInfo) -> None:
        self.summary.classes[name] = info

    def add_call(self, site: CallSite) -> None:
        self.summary.calls.append(site)

    def add_escape(self, callee: Callee) -> None:
        self.summary.escapes.add(callee)


def plain_decorators(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[bool, bool]:
    """(has a decorator that may call the function for us, is a static method)."""
    escapes, static = False, False
    for dec in node.decorator_list:
        name = dec.attr if isinstance(dec, ast.Attribute) else dec.id if isinstance(dec, ast.Name) else None
        if name == "staticmethod":
            static = True
        if name not in _PLAIN_DECORATORS and not (name or "").startswith(("jit", "ignore", "unused")):
            escapes = True
    return escapes, static
