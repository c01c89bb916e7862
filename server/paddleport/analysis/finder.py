"""Find every torch use in a source text: the fast path, ``ast`` only.

This runs on every keystroke in the editor, so it does one parse and one walk.
libcst's metadata pass is ~100x slower and stays out of this path.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field

from paddleport.analysis import dtypes as dt
from paddleport.analysis import incremental as inc
from paddleport.analysis import objtypes as ot
from paddleport.analysis import project as px
from paddleport.analysis.canonical import canonical
from paddleport.analysis.reparse import ParseCache
from paddleport.analysis.scopes import Scope, build_scope, dotted, is_torch_module
from paddleport.analysis.source import SourceText, line_end
from paddleport.analysis.uses import Confidence, Use, UseKind
from paddleport.rules.loader import RuleSet
from paddleport.rules.model import Kind, Rule, Tier
from paddleport.rules.signature import ParamKind

IGNORE_MARK = "paddleport: ignore"

# Method names that builtins, numpy arrays or nn.Module also have: on an
# unknown receiver they are not evidence of a tensor.
AMBIGUOUS_METHODS = frozenset(
    [
        "abs", "add", "all", "any", "append", "apply", "argmax", "argmin", "argsort", "astype",
        "bool", "byte", "char", "clear", "clip", "copy", "count", "cpu", "cuda",
        "cumprod", "cumsum", "data", "detach", "diagonal", "div", "dot", "double", "dtype",
        "eq", "eval", "expand", "extend", "fill", "flatten", "float", "format", "get", "half",
        "index", "insert", "int", "item", "items", "join", "keys", "long", "lower", "max",
        "mean", "min", "mul", "ne", "nonzero", "numpy", "pop", "prod", "put", "ravel",
        "register_buffer", "remove", "repeat", "replace", "reshape", "resize", "round", "sort",
        "split", "squeeze", "std", "strip", "sub", "sum", "swapaxes", "take", "to", "tolist",
        "trace", "train", "transpose", "type", "update", "upper", "values", "var", "view",
    ]
)


@dataclass
class SyntaxProblem:
    message: str
    line: int  # 1-based
    col: int  # 0-based character column


@dataclass
class Analysis:
    source: SourceText
    uses: list[Use] = field(default_factory=list)
    syntax_error: SyntaxProblem | None = None
    reused: int = 0  # top-level statements whose walk an incremental analysis reused
    # an incremental analysis: where each top-level statement's text starts, and its walk
    regions: list[tuple[int, inc.Segment]] | None = None
    imports_torch: bool = False  # torch is imported (the device/dtype dicts' uses count)
    tree: ast.Module | None = None  # the text parsed (never changed by the analysis)


def analyze(text: str, rules: RuleSet, facts: ot.TypeFacts | None = None, *,
            project: px.ModuleFacts | None = None, parses: ParseCache | None = None,
            cache: inc.AnalysisCache | None = None) -> Analysis:
    """All torch uses in ``text``, in source order; a syntax error instead of uses when it does not parse.

    ``facts`` adds what is known about classes defined elsewhere (bases, attribute types).
    ``project`` tells what the rest of the project knows (batch conversion only):
    what project functions return, which parameters every caller passes a tensor.
    ``parses`` (the editor's) parses again only the statements an edit touched; ``cache``
    (the editor's, with its own parses) also walks again only those statements
    (``analysis.incremental``). Either way the result is what ``analyze(text, rules)`` gives.
    """
    source = SourceText(text)
    if cache is not None:
        parses = cache.parses
    try:
        tree = ast.parse(text) if parses is None else parses.parse(text)
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        return Analysis(source, [], SyntaxProblem(exc.msg, line, col))
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
        return Analysis(source, [], SyntaxProblem(f"cannot parse: {exc}", 1, 0))
    finder = _Finder(source, rules, facts, project)
    done: list[tuple[int, inc.Segment]] | None = None
    reused = 0
    try:
        finder.prepare(tree)
        incremental = cache is not None and project is None
        regions = inc.regions(text, tree.body, source.line_starts) if incremental else None
        if cache is None or regions is None:
            for stmt in tree.body:
                finder.statement(stmt)
        else:
            done, reused = _walk_incrementally(finder, tree.body, regions, rules, cache)
        finder.finish()
    except RecursionError:
        return Analysis(source, [], SyntaxProblem("nesting too deep to analyse", 1, 0))
    uses = finder.uses
    if IGNORE_MARK in text:
        ignored = {i + 1 for i, line in enumerate(source.lines()) if IGNORE_MARK in line}
        uses = [u for u in uses if source.position(u.focus_start)[0] not in ignored]
        done = None  # the uses are no longer what the statements' walks found
    uses.sort(key=lambda u: (u.start, -u.end))
    return Analysis(source, uses, reused=reused, regions=done, imports_torch=finder.imports_torch, tree=tree)


def _walk_incrementally(finder: _Finder, body: list[ast.stmt], regions: list[tuple[int, str]], rules: RuleSet,
                        cache: inc.AnalysisCache) -> tuple[list[tuple[int, inc.Segment]], int]:  # fmt: skip
    """Walk each statement, or take its walk from ``cache`` (``analysis.incremental``); each
    statement's start and walk, and how many were taken."""
    members = finder.class_members(cache.members())
    context = finder.context()
    last_context, last = cache.last(rules)
    same = last_context == context
    walked: dict[inc.Key, tuple[int, inc.Segment]] = {}
    done = []
    reused = 0
    for stmt, (start, region) in zip(body, regions, strict=True):
        key = (region, finder.imports_torch)
        hit = last.get(key)
        before = None if hit is None else hit[1] if hit[0] == start else hit[1].shifted(start - hit[0])
        if before is not None and same:
            segment = before
            finder.adopt(segment)
            reused += 1
        else:
            segment = finder.statement(stmt)
            if segment == before:  # walked again to the same uses: what was made from them stands
                segment = before
        walked[key] = (start, segment)
        done.append((start, segment))
    cache.store(rules, context, walked, members)
    return done, reused


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


_BODIES = (ast.stmt, ast.excepthandler, ast.match_case)


def _statements(body: list[ast.stmt], nested: bool = True) -> list[ast.stmt]:
    """Every statement in ``body``, inside compound ones too; ``nested``: in nested functions as well."""
    out: list[ast.stmt] = []
    stack: list[ast.AST] = list(body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.stmt):
            out.append(stmt)
        if nested or not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                inner = getattr(stmt, name, None)
                if isinstance(inner, list):
                    stack.extend(s for s in inner if isinstance(s, _BODIES))
    return out


def _returns(body: list[ast.stmt]) -> list[ast.Return]:
    """The return statements of a function body, not of functions nested in it."""
    return [s for s in _statements(body, nested=False) if isinstance(s, ast.Return)]


def _chain_of(scope: Scope) -> list[Scope]:
    out: list[Scope] = []
    s: Scope | None = scope
    while s is not None:
        out.append(s)
        s = s.parent
    return out


def _bound_by_default(scope: Scope, name: str) -> bool:
    s: Scope | None = scope
    while s is not None:
        if name in s.torch:
            return name in s.defaults
        s = s.parent
    return False


_STR_NAMES = frozenset(dir(str))
# methods of str (and of files: read) that torch.Tensor lacks: their results are never tensors
_TEXT_METHODS = frozenset({"strip", "lstrip", "rstrip", "lower", "upper", "casefold", "title", "capitalize",
                          "replace", "format", "join", "read", "readline", "decode", "removeprefix",
                          "removesuffix", "ljust", "rjust", "center", "zfill", "expandtabs"})  # fmt: skip


def _str_method_call(node: ast.Call, func: ast.Attribute, rule: Rule) -> bool:
    """A call that is str's method of the same name, never the tensor's: ``line.split(' ')``,
    ``line.strip().lower().split()``, ``f.read().split('\\n')``, ``url.split()``."""
    if func.attr not in _STR_NAMES:
        return False
    receiver = func.value
    if isinstance(receiver, ast.JoinedStr) or _is_text(receiver):
        return True
    if (isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute)
            and receiver.func.attr in _TEXT_METHODS):  # fmt: skip
        return True
    if node.args and _is_text(node.args[0]) and not func.attr.startswith("__"):
        return True  # tensor methods named like str's (split) take sizes, never text; dunders (__format__) do
    # torch's method needs an argument this call does not pass: `line.split()`
    if node.args or node.keywords or rule.signature is None:
        return False
    return any(p.default is None and p.kind is ParamKind.POSITIONAL for p in rule.signature.params)


def _too_many_positional(node: ast.Call, rule: Rule) -> bool:
    """The call passes more positional arguments than torch's method takes: `metric.add(a, b, c)`
    on d2l's Accumulator is not ``Tensor.add(other)``, so the receiver is not a tensor."""
    sig = rule.signature
    if sig is None or sig.var_positional is not None or any(isinstance(a, ast.Starred) for a in node.args):
        return False
    return len(node.args) > len(sig.positional)


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _defined_members(cls: ast.ClassDef) -> frozenset[str]:
    """The methods a class body defines and the ``self.<name>`` attributes its methods assign."""
    names = {f.name for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for fn in cls.body:
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                        and isinstance(node.value, ast.Name) and node.value.id == "self"):  # fmt: skip
                    names.add(node.attr)
    return frozenset(names)


def _not_a_tensor(receiver: ast.expr, scope: Scope) -> bool:
    """Receivers that are surely not tensors: modules (np.sum, os.path.split), self/cls, super()."""
    if isinstance(receiver, ast.Name):
        return receiver.id in ("self", "cls") or scope.is_module(receiver.id)
    if isinstance(receiver, ast.Attribute):  # np.linalg.norm, os.path.split, paddle.compat.max
        root: ast.expr = receiver
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and scope.is_module(root.id)
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name):
        return receiver.func.id == "super"
    return False


def _indexes_new_axis(node: ast.expr) -> bool:
    """``valid_len[:, None]``: indexing with ``None`` (a new axis) is done only to arrays and tensors."""
    if not isinstance(node, ast.Subscript):
        return False
    index = node.slice
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    return any(_is_none(i) for i in items)


def _loss_name(typ: str) -> bool:
    """A torch loss class: ``torch.nn.CrossEntropyLoss``."""
    return typ.startswith("torch.nn.") and typ.endswith("Loss")


def _self_layer_weight(node: ast.expr) -> str | None:
    """``A`` for ``self.A.weight``, else None."""
    if (isinstance(node, ast.Attribute) and node.attr == "weight" and isinstance(node.value, ast.Attribute)
            and isinstance(node.value.value, ast.Name) and node.value.value.id == "self"):  # fmt: skip
        return node.value.attr
    return None


# Methods only torch's Module has (optimizers and schedulers share state_dict, zero_grad, train):
# a parameter the body calls one on is a module, so its other members convert (`net.to(device)`).
_MODULE_ONLY_METHODS = frozenset({
    "apply", "named_modules", "modules", "children", "named_children", "named_parameters",
    "register_buffer", "named_buffers", "buffers"})  # fmt: skip


def _is_type_of(node: ast.expr) -> bool:
    """``type(x)`` or ``x.__class__``: an object's exact class."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "type" and len(node.args) == 1
    return isinstance(node, ast.Attribute) and node.attr == "__class__"


_OWN = ""  # the class's own weight (`self.weight`), among the owners `_layout_readers` finds


def _weight_owner(node: ast.expr) -> str | None:
    """``A`` for ``self.A.weight``, :data:`_OWN` for ``self.weight``, else None."""
    if isinstance(node, ast.Attribute) and node.attr == "weight":
        if isinstance(node.value, ast.Name) and node.value.id == "self":
            return _OWN
        return _self_layer_weight(node)
    return None


def _layout_readers(node: ast.ClassDef, source: SourceText) -> set[str]:
    """Layers whose weight the class's methods read in torch's layout: passed to ``F.linear``
    (``F.linear(x, self.qkv.weight)``, ``F.linear(x, self.weight.to(...))`` in a Linear subclass)
    or written into by index (``self.proj.weight.data[i, 2] = -1``). Paddle's own Linear stores
    that weight transposed, so those layers keep torch's layout."""
    found: set[str] = set()
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    start, end = source.line_starts[first - 1], source.node_span(node)[1]
    if "weight" not in source.text[start:end]:  # every owner is found by a `.weight`: a text search
        return found  # beats walking the class (a third of a dense file's analysis)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            parts = dotted(func) if isinstance(func, (ast.Attribute, ast.Name)) else None
            name = parts[-1] if parts else ""
            if name == "linear":
                for arg in [*sub.args, *(k.value for k in sub.keywords)]:
                    found.update(o for n in ast.walk(arg) if (o := _weight_owner(n)) is not None)  # type: ignore[arg-type]
        elif isinstance(sub, (ast.Assign, ast.AugAssign)):
            targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
            for target in targets:
                if isinstance(target, ast.Subscript):
                    inner = target.value
                    if isinstance(inner, ast.Attribute) and inner.attr == "data":
                        inner = inner.value
                    if (owner := _weight_owner(inner)) is not None:
                        found.add(owner)
    return found


# Child fields of the commonest nodes, read directly: faster than ast.iter_child_nodes.
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {
    ast.Assign: ("targets", "value"),
    ast.AugAssign: ("target", "value"),
    ast.Expr: ("value",),
    ast.Return: ("value",),
    ast.BinOp: ("left", "right"),
    ast.UnaryOp: ("operand",),
    ast.BoolOp: ("values",),
    ast.Compare: ("left", "comparators"),
    ast.Subscript: ("value", "slice"),
    ast.Tuple: ("elts",),
    ast.List: ("elts",),
    ast.Slice: ("lower", "upper", "step"),
    ast.Starred: ("value",),
    ast.IfExp: ("test", "body", "orelse"),
    ast.If: ("test", "body", "orelse"),
    ast.For: ("target", "iter", "body", "orelse"),
    ast.While: ("test", "body", "orelse"),
    ast.With: ("items", "body"),
    ast.withitem: ("context_expr", "optional_vars"),
    ast.keyword: ("value",),
    ast.Dict: ("keys", "values"),
    ast.JoinedStr: ("values",),
    ast.FormattedValue: ("value",),
}

# Statements and expressions that a member rule may rewrite whole (`opt.param_groups[0]['lr'] = v`)
_WIDE_MEMBER_NODES = frozenset({ast.Subscript, ast.Assign, ast.AugAssign, ast.For})
_STR_RESULTS = frozenset({"format", "join", "strip", "lstrip", "rstrip", "lower", "upper",
                          "replace", "title", "capitalize", "zfill", "ljust", "rjust"})  # fmt: skip
# Builtins whose result is surely not a tensor, when not shadowed
_BUILTIN_RESULTS = {"str": ot.STR, "repr": ot.STR, "list": ot.LIST, "dict": ot.DICT,
                    "sorted": ot.LIST, "len": ot.INT, "int": ot.INT, "float": ot.FLOAT}  # fmt: skip

_ROLE_VALUE, _ROLE_CALL, _ROLE_BASE, _ROLE_ANNOTATION, _ROLE_TYPE_CHECK = range(5)
_TYPE_CHECKS = frozenset({"isinstance", "issubclass"})
_LOOKUPS = frozenset({"getattr", "hasattr", "dir"})
FACTORY_KWARGS_API = "factory_kwargs"  # the `api` of a device/dtype dict's use (no torch name)
PROMOTE_API = "type_promotion"  # the `api` of a PROMOTE use (an operand to cast)
INPLACE_API = "inplace_assignment"  # the `api` of an INPLACE use (`x += v` that torch runs in place)
_INPLACE_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
# calls whose result is already an operand cast for promotion (converted code, or by hand)
_CAST_CALLS = frozenset({"astype", "promote", "cast"})
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
# Fields of a Scope that hold ast nodes (or the scope tree): not part of `_Finder.context`
_NODE_FIELDS = frozenset({"node", "parent", "alias_values", "assigns", "loops", "factories", "splatted",
                          "factory_returns"})  # fmt: skip


def _plain(value: object) -> object:
    """A copy of a scope field's value that later changes to the scope leave alone."""
    if isinstance(value, set):
        return frozenset(value)
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _plain_value(node: ast.expr) -> bool:
    """Numbers, names and attribute chains, and arithmetic of them: no call, so no torch use inside."""
    t = type(node)
    if t is ast.Constant:
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)  # type: ignore[attr-defined]
    if t is ast.Name or t is ast.Attribute:
        return dotted(node) is not None
    if t is ast.UnaryOp:
        return _plain_value(node.operand)  # type: ignore[attr-defined]
    if t is ast.BinOp:
        return _plain_value(node.left) and _plain_value(node.right)  # type: ignore[attr-defined]
    return False


class _Finder:
    def __init__(self, source: SourceText, rules: RuleSet, facts: ot.TypeFacts | None = None,
                 project: px.ModuleFacts | None = None) -> None:
        self.src = source
        self.rules = rules
        self.project = project
        self.self_class = ""  # the module-level class whose methods are being visited
        self.local_returns: dict[tuple[int, str], int] = {}  # (id(scope), name) -> conf of its result
        self.uses: list[Use] = []
        self.class_tensors: list[set[str]] = []  # self.<attr> known to hold tensors, per class
        self.kept_layout: set[int] = set()  # ids of calls creating layers whose weight is assigned
        # `p.grad[:] *= k`: id of the `p.grad` written into by index -> the subscript (rewritten whole)
        self.grad_writes: dict[int, ast.Subscript] = {}
        self.compared: set[int] = set()  # ids of the operands of comparisons with type(x)
        self.torch_layout_classes: list[bool] = []  # per enclosing class: its own weight keeps torch's layout
        self.open_files: set[str] = set()  # names bound by an enclosing `with open(...) as name`
        self._resolved: dict[tuple[str, tuple[str, ...]], tuple[Rule | None, str, int]] = {}
        self._factory_uses: list[Use] = []
        self._imports_torch = False
        self.class_types: list[str | None] = []  # the type of `self`, per class being visited
        self.facts = ot.TypeFacts(dict(facts.bases), {k: dict(v) for k, v in facts.attrs.items()}) \
            if facts is not None else ot.TypeFacts()  # fmt: skip
        self.local_classes: dict[str, str] = {}  # class name at module level -> its type key
        self.local_class_nodes: dict[str, ast.ClassDef] = {}  # its type key -> its statement
        self._local_members: dict[str, frozenset[str]] = {}  # its type key -> the members it defines
        self.narrowed: dict[str, str] = {}  # names narrowed by an enclosing isinstance test
        self.handled: set[int] = set()  # ids of attribute nodes already recorded within a wider use
        self.module_scope: Scope | None = None
        self.dtypes = dt.Dtypes(self._torch_name, self._is_loss)
        self._module_dtypes: dict[str, str | None] = {}
        self._module_splats: set[str] = set()  # module-level device/dtype dicts the statement splats
        self._pinned: list[Scope] = []  # scopes keyed by id in `local_returns`: their ids stay theirs

    # -- traversal -------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        self.prepare(tree)
        for stmt in tree.body:
            self.statement(stmt)
        self.finish()

    def prepare(self, tree: ast.Module) -> None:
        """What the whole module tells before any statement is walked: its names, classes, types."""
        scope = build_scope(None, None, tree.body, None)
        self.module_scope = scope
        if self.project is not None:  # `from .layers import *` copies that module's torch, nn, F
            for name, target in self.project.star_torch().items():
                if name not in scope.locals and name not in scope.torch and name not in scope.modules:
                    scope.torch[name] = target
                    self._imports_torch = True
        self._class_facts(tree, scope)
        if self.project is not None and self.project.recording:
            self.project.enter_module(tree)  # type: ignore[attr-defined]
        self._infer_tensors(scope)
        # worked out now, in one order, not when a statement first asks: a statement's walk then
        # depends on the module's names only through `context()` (the incremental analysis)
        self._module_dtypes = self.dtypes.scope_facts(scope)

    @property
    def imports_torch(self) -> bool:
        return self._imports_torch

    def statement(self, stmt: ast.stmt) -> inc.Segment:
        """Walk one top-level statement; what it found, for an incremental analysis to reuse."""
        assert self.module_scope is not None
        n, n_factory = len(self.uses), len(self._factory_uses)
        self._module_splats = set()
        self.visit(stmt, self.module_scope)
        return inc.Segment(tuple(self.uses[n:]), tuple(self._factory_uses[n_factory:]),
                           frozenset(self._module_splats), self._imports_torch)  # fmt: skip

    def adopt(self, segment: inc.Segment) -> None:
        """Take a statement's walk from an earlier analysis instead of walking it again."""
        assert self.module_scope is not None
        self.uses.extend(segment.uses)
        self._factory_uses.extend(segment.factory_uses)
        self.module_scope.splatted.update(segment.splats)
        self._imports_torch = segment.imports_torch

    def finish(self) -> None:
        assert self.module_scope is not None
        self._factory_dicts(self.module_scope)
        if self._imports_torch:  # a device/dtype dict means torch only where torch is imported
            self.uses.extend(self._factory_uses)

    def context(self) -> tuple[object, ...]:
        """Everything module-wide that a top-level statement's walk reads, as plain values.

        Two analyses with equal contexts walk an unchanged statement (with the same
        ``imports_torch`` before it) to the same uses. Every field of the module scope
        counts, but for those holding ``ast`` nodes of the statements themselves (the
        names of ``factories`` count; ``splatted`` is what walks add, see ``Segment``).
        """
        scope = self.module_scope
        assert scope is not None
        values: list[object] = [_plain(getattr(scope, f.name)) for f in dataclasses.fields(Scope)
                                if f.name not in _NODE_FIELDS]  # fmt: skip
        values += [frozenset(scope.factories), dict(self.facts.bases),
                   {k: dict(v) for k, v in self.facts.attrs.items()}, dict(self.local_classes),
                   self._module_dtypes, self._class_members()]  # fmt: skip
        return tuple(values)

    def class_members(self, known: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
        """What each class of the file defines (``_inherited`` reads it from any statement), by the
        class's text; a class whose text ``known`` holds is not walked again. Returns the same map
        for this text."""
        found: dict[str, frozenset[str]] = {}
        for key, node in self.local_class_nodes.items():
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            text = self.src.text[self.src.line_starts[first - 1] : self.src.node_span(node)[1]]
            members = known.get(text)
            if members is None:
                members = _defined_members(node)
            self._local_members[key] = found[text] = members
        return found

    def _class_members(self) -> dict[str, frozenset[str]]:
        return {key: self._members_of(key) for key in self.local_class_nodes}

    def _members_of(self, key: str) -> frozenset[str]:
        """What the file's class ``key`` defines, walked once (or given by ``class_members``)."""
        members = self._local_members.get(key)
        if members is None:
            members = self._local_members[key] = _defined_members(self.local_class_nodes[key])
        return members

    def visit(self, node: ast.AST, scope: Scope) -> None:
        t = type(node)
        if (t is ast.BinOp or t is ast.Compare or t is ast.AugAssign) and self._imports_torch:
            self._promotion(node, scope)  # type: ignore[arg-type]
        if t is ast.Compare and self._imports_torch:  # `type(m) == nn.Linear`: the class itself
            operands = [node.left, *node.comparators]  # type: ignore[attr-defined]
            if any(_is_type_of(n) for n in operands):
                self.compared.update(id(n) for n in operands)
        if t is ast.AugAssign and self._imports_torch:
            self._inplace(node, scope)  # type: ignore[arg-type]
        if (t is ast.AugAssign or t is ast.Assign) and self._imports_torch:
            for target in (node.targets if t is ast.Assign else [node.target]):  # type: ignore[attr-defined]
                if (type(target) is ast.Subscript and type(target.value) is ast.Attribute
                        and target.value.attr == "grad"):  # fmt: skip
                    self.grad_writes[id(target.value)] = target
        if t is ast.Call:
            self._call(node, scope)  # type: ignore[arg-type]
        elif t is ast.Attribute or t is ast.Name:
            self._chain(node, scope, _ROLE_VALUE, None)  # type: ignore[arg-type]
        elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
            self._function(node, scope, None)  # type: ignore[arg-type]
        elif t is ast.ClassDef:
            self._class(node, scope)  # type: ignore[arg-type]
        elif t is ast.Lambda:
            assert isinstance(node, ast.Lambda)
            inner = build_scope(node, scope, node.body, node.args)
            for d in (*node.args.defaults, *(d for d in node.args.kw_defaults if d)):
                self.visit(d, scope)
            self.visit(node.body, inner)
        elif t is ast.Import or t is ast.ImportFrom:
            self._import(node)  # type: ignore[arg-type]
        elif t is ast.AnnAssign:
            assert isinstance(node, ast.AnnAssign)
            self._annotation(node.annotation, scope)
            self.visit(node.target, scope)
            if node.value is not None:
                self.visit(node.value, scope)
        elif (t is ast.Constant or (t is ast.Compare and self._compare(node, scope))  # type: ignore[arg-type]
              or (t is ast.If and self._narrowing(node, scope))  # type: ignore[arg-type]
              or (t in _WIDE_MEMBER_NODES and self._wide_member(node, scope))):  # fmt: skip
            return
        elif (t is ast.With or t is ast.AsyncWith) and self.rules.has_file_args:
            self._with(node, scope)  # type: ignore[arg-type]
        elif t is ast.Expr or t is ast.Assign:
            n = len(self.uses)
            self._generic(node, t, scope)
            if len(self.uses) > n:
                self._whole_statement(node, n)  # type: ignore[arg-type]
        else:
            self._generic(node, t, scope)

    def _generic(self, node: ast.AST, t: type, scope: Scope) -> None:
        fields = _CHILD_FIELDS.get(t)
        if fields is None:
            for child in ast.iter_child_nodes(node):
                self.visit(child, scope)
            return
        for name in fields:
            value = getattr(node, name)
            if type(value) is list:
                for child in value:
                    if child is not None:
                        self.visit(child, scope)
            elif value is not None:
                self.visit(value, scope)

    def _with(self, node: ast.With | ast.AsyncWith, scope: Scope) -> None:
        """Visit a ``with``, knowing which names hold files it opened (``with open(p) as f``)."""
        opened = set()
        for item in node.items:
            self.visit(item, scope)
            ctx, name = item.context_expr, item.optional_vars
            if (isinstance(ctx, ast.Call) and isinstance(ctx.func, ast.Name) and ctx.func.id == "open"
                    and isinstance(name, ast.Name) and name.id not in self.open_files):  # fmt: skip
                opened.add(name.id)
        self.open_files |= opened
        try:
            for stmt in node.body:
                self.visit(stmt, scope)
        finally:
            self.open_files -= opened

    def _whole_statement(self, node: ast.Expr | ast.Assign, first: int) -> None:
        """Widen a use to its statement when its rule rewrites whole statements.

        ``torch.backends.cudnn.benchmark = True`` (a store of an attribute rule)
        and ``torch.set_float32_matmul_precision("high")`` (a call standing alone)
        have no expression in Paddle; a rule's ``statement`` replaces the statement.
        """
        use = self.uses[first]
        rule = use.rule
        if rule is None or rule.statement is None:
            return
        if isinstance(node, ast.Assign):
            target = node.targets[0]
            if (len(node.targets) != 1 or use.kind is not UseKind.ATTRIBUTE
                    or not isinstance(target, (ast.Attribute, ast.Name))
                    or (use.focus_start, use.focus_end) != self.src.node_span(target)):  # fmt: skip
                return
        elif use.kind is not UseKind.CALL or (use.start, use.end) != self.src.node_span(node.value):
            return
        start, end = self.src.node_span(node)
        text = self.src.text
        line_start = self.src.line_starts[node.lineno - 1]
        # the rest of the statement's last line (its own text: never a statement below it)
        rest = text[end : line_end(text, self.src.line_starts, (node.end_lineno or node.lineno) - 1)].strip()
        alone = not text[line_start:start].strip() and (not rest or rest.startswith("#"))
        indent = text[line_start:start] if alone else None
        if isinstance(node, ast.Assign):  # the use becomes the assignment, value included
            self.uses[first] = dataclasses.replace(use, start=start, end=end, store=True,
                                                   statement=indent)  # fmt: skip
        elif alone:
            self.uses[first] = dataclasses.replace(use, statement=indent)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope,
                  class_scope_bases: list[str] | None) -> None:  # fmt: skip
        for dec in node.decorator_list:
            self.visit(dec, scope)
        args = node.args
        for d in (*args.defaults, *(d for d in args.kw_defaults if d)):
            self.visit(d, scope)
        all_args = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                all_args.append(extra)
        for a in all_args:
            if a.annotation is not None:
                self._annotation(a.annotation, scope)
        if node.returns is not None:
            self._annotation(node.returns, scope)
        inner = build_scope(node, scope, node.body, args)
        self._default_classes(args, scope, inner)
        for a in all_args:
            if a.annotation is not None:
                if self._is_tensor_annotation(a.annotation, scope):
                    inner.tensors[a.arg] = Confidence.HIGH
                elif self._is_tensor_list_annotation(a.annotation, scope):
                    inner.tensor_lists.add(a.arg)
                else:
                    typ = self._class_type(a.annotation, scope)
                    if typ is not None and inner.binds.get(a.arg) == 1:
                        inner.objects[a.arg] = typ
        if class_scope_bases is not None and self.class_types and self.class_types[-1] is not None:
            positional = [*args.posonlyargs, *args.args]
            is_static = any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
                            for d in node.decorator_list)  # fmt: skip
            if positional and not is_static and inner.binds.get(positional[0].arg) == 1:
                inner.objects[positional[0].arg] = self.class_types[-1]
            elif (positional and is_static and node.name in ("forward", "backward", "setup_context")
                  and inner.binds.get(positional[0].arg) == 1
                  and self.facts.torch_base(self.class_types[-1]) == ot.AUTOGRAD_FUNCTION):  # fmt: skip
                inner.objects[positional[0].arg] = ot.FUNCTION_CTX  # torch.autograd.Function's ctx
        if class_scope_bases is not None and node.name == "forward":
            positional = [*args.posonlyargs, *args.args][1:]
            n_required = len(positional) - len(args.defaults)
            for a in positional[:n_required]:
                inner.tensors.setdefault(a.arg, Confidence.MEDIUM)
        self._tensor_evidence(node, all_args, inner)
        qual = None
        if self.project is not None and scope.node is None:
            qual = node.name if class_scope_bases is None else (
                f"{self.self_class}.{node.name}" if self.self_class else None)
            if qual is not None:
                for name, conf in self.project.params(qual).items():
                    inner.tensors.setdefault(name, conf)
        self._infer_tensors(inner)
        if scope.node is not None and class_scope_bases is None:
            self._local_function(node, scope, inner)
        if qual is not None and self.project is not None and self.project.recording:
            self._record_function(node, qual, inner, class_scope_bases is not None)
        for stmt in node.body:
            self.visit(stmt, inner)
        self._factory_dicts(inner)

    def _factory_dicts(self, scope: Scope) -> None:
        """The device/dtype dicts of this scope that a call splats (``**dd``), and those it returns.

        A splat is the evidence for a dict bound to a name; a returned dict with exactly
        both keys (timm's ``get_device_dtype``) exists for its callers to splat.
        """
        dicts = [scope.factories[name] for name in scope.splatted]
        for node in (*dicts, *scope.factory_returns):
            start, end = self.src.node_span(node)
            self._factory_uses.append(
                Use(FACTORY_KWARGS_API, None, UseKind.FACTORY_KWARGS, start, end, start, end))

    def _splats(self, call: ast.Call, scope: Scope) -> tuple[str, ...]:
        """Names of the device/dtype dicts ``call`` splats (``**dd``), marking them as splatted.

        ``*dd`` (spreading the dict's keys as positional arguments, a slip for ``**dd``) is
        named ``*dd``: it goes too, for review.
        """
        found: list[str] = []
        spread = [(kw.value.id, "") for kw in call.keywords
                  if kw.arg is None and isinstance(kw.value, ast.Name)]  # fmt: skip
        spread += [(a.value.id, "*") for a in call.args
                   if isinstance(a, ast.Starred) and isinstance(a.value, ast.Name)]  # fmt: skip
        for name, star in spread:
            s: Scope | None = scope
            while s is not None:
                if name in s.factories:
                    s.splatted.add(name)
                    if s is self.module_scope:
                        self._module_splats.add(name)
                    found.append(star + name)
                    break
                if name in s.locals or name in s.torch:
                    break
                s = s.parent
        return tuple(found)

    def _default_classes(self, args: ast.arguments, outer: Scope, inner: Scope) -> None:
        """``act_layer=nn.ReLU``: calls of the parameter in the body are calls of the default.

        timm writes ``act_layer(inplace=True)``; mapping those calls for the default
        class (and saying so) beats leaving torch-only arguments for Paddle to reject.
        """
        positional = [*args.posonlyargs, *args.args]
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
        for param, default in pairs:
            if not isinstance(default, (ast.Attribute, ast.Name)):
                continue
            parts = dotted(default)
            if parts is None:
                continue
            base, _ = outer.lookup(parts[0])
            if base is None:
                continue
            rule, api, k = self._resolve(base, tuple(parts[1:]))
            if rule is not None and k == len(parts) and rule.kind is Kind.CALLABLE:
                inner.torch[param.arg] = api
                inner.aliases.add(param.arg)
                inner.defaults.add(param.arg)
                inner.locals.discard(param.arg)

    def _class(self, node: ast.ClassDef, scope: Scope) -> None:
        for dec in node.decorator_list:
            self.visit(dec, scope)
        bases: list[str] = []
        readers = _layout_readers(node, self.src)
        own_layout = _OWN in readers  # a Linear subclass reading self.weight as torch's
        self.torch_layout_classes.append(own_layout)
        for base in node.bases:
            if isinstance(base, (ast.Attribute, ast.Name)):
                if own_layout:
                    self.kept_layout.add(id(base))
                self._chain(base, scope, _ROLE_BASE, None)
                parts = dotted(base)
                if parts:
                    bases.append(".".join(parts))
            else:
                self.visit(base, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)
        self._inherited_init(node, scope)
        self.class_tensors.append(self._tensor_attributes(node, scope, readers - {_OWN}))
        key = self.local_classes.get(node.name) if scope is self.module_scope else None
        self.class_types.append(key if key is not None and self.facts.torch_base(key) else None)
        outer_class, self.self_class = self.self_class, node.name if scope.node is None else ""
        if self.project is not None and self.project.recording and self.self_class:
            self._record_class(node, scope)
        for stmt in node.body:
            if isinstance(stmt, _FUNCS):
                self._function(stmt, scope, bases)
            else:
                self.visit(stmt, scope)
        self.self_class = outer_class
        self.class_tensors.pop()
        self.class_types.pop()
        self.torch_layout_classes.pop()

    def _inherited_init(self, node: ast.ClassDef, scope: Scope) -> None:
        """A subclass of a torch class with no ``__init__`` of its own, whose rule adds Paddle arguments
        torch's constructor implies (``nn.CrossEntropyLoss`` → ``axis=1``): an ``INHERITED_INIT`` use
        on the body's first statement, where the conversion writes the ``__init__`` that passes them
        (callers anywhere construct it with torch's arguments). Recorded before the body's uses."""
        base = node.bases[0] if node.bases else None
        if not isinstance(base, (ast.Attribute, ast.Name)) or not node.body:
            return
        api = self._torch_name(base, scope)
        rule = self.rules.get(api) if api is not None else None
        if rule is None or rule.kind is not Kind.CALLABLE or not rule.converts or not rule.defaults:
            return
        for stmt in node.body:
            if isinstance(stmt, _FUNCS) and stmt.name == "__init__":
                return
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__init__"
                                                    for t in stmt.targets):  # fmt: skip
                return
        first = node.body[0]
        start, end = self.src.node_span(first)
        indent = self.src.text[start - first.col_offset : start] if first.col_offset else ""
        if indent.strip():  # `class L(nn.CrossEntropyLoss): pass` on one line: no room for a method
            return
        first_break = self.src.text.find("\n", start, end)
        self.uses.append(Use(rule.api, rule, UseKind.INHERITED_INIT, start, end, start,
                             end if first_break < 0 else first_break, statement=indent))  # fmt: skip

    def _tensor_attributes(self, node: ast.ClassDef, scope: Scope, readers: set[str]) -> set[str]:
        """`self.x = torch.zeros(..)`, `self.w = nn.Parameter(..)`, `self.register_buffer('b', ..)`.

        On the way it finds layers whose weight the class assigns (weight tying,
        `self.lm_head.weight = self.emb.weight`) and records the calls that create
        them in ``kept_layout``: Paddle's own Linear stores that weight transposed.
        """
        found: set[str] = set()
        created: dict[str, list[ast.Call]] = {}
        assigned = set(readers)  # layers the class reads in torch's layout (`_layout_readers`)
        stack: list[ast.stmt] = [s for s in node.body if isinstance(s, _FUNCS)]
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, _FUNCS):
                stack.extend(stmt.body)
            elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                        and target.value.id == "self"):  # fmt: skip
                    if self._holds_tensor(stmt.value, scope):
                        found.add(target.attr)
                    if isinstance(stmt.value, ast.Call):
                        created.setdefault(target.attr, []).append(stmt.value)
                if isinstance(target, ast.Attribute) and target.attr == "weight":
                    # either side of a tie: `self.head.weight = self.emb.weight`, or a nested
                    # layer taking the head's (`self.transformer.wte.weight = self.lm_head.weight`)
                    for side in (target, stmt.value):
                        if (owner := _self_layer_weight(side)) is not None:
                            assigned.add(owner)
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                if (isinstance(call.func, ast.Attribute) and call.func.attr == "register_buffer"
                        and len(call.args) >= 2 and isinstance(call.args[0], ast.Constant)
                        and isinstance(call.args[0].value, str)):  # fmt: skip
                    found.add(call.args[0].value)
            else:
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(stmt, field, None)
                    if isinstance(inner, list):
                        stack.extend(s for s in inner if isinstance(s, ast.stmt))
        for name in assigned:
            self.kept_layout.update(id(call) for call in created.get(name, ()))
        return found

    def _holds_tensor(self, value: ast.expr, scope: Scope) -> bool:
        if isinstance(value, ast.IfExp):  # `nn.Parameter(..) if cls_token else None`
            branches = [b for b in (value.body, value.orelse) if not _is_none(b)]
            return bool(branches) and all(self._holds_tensor(b, scope) for b in branches)
        if isinstance(value, ast.Call) and isinstance(value.func, (ast.Attribute, ast.Name)):
            parts = dotted(value.func)
            if parts is not None:
                base, _ = scope.lookup(parts[0])
                if base is not None:
                    api = canonical(".".join([base, *parts[1:]]))
                    if api in ("torch.nn.Parameter", "torch.nn.Buffer"):
                        return True
        return bool(self._tensor_conf(value, scope))

    def _annotation(self, node: ast.expr, scope: Scope) -> None:
        if isinstance(node, (ast.Attribute, ast.Name)):
            self._chain(node, scope, _ROLE_ANNOTATION, None)
        elif isinstance(node, ast.Constant):
            return  # string annotations are left alone
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self._annotation(child, scope)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names if is_torch_module(a.name)]
        else:
            mod = node.module or ""
            torch_mod = node.level == 0 and bool(mod) and is_torch_module(mod)
            names = [mod] if torch_mod else []
        if not names:
            return
        self._imports_torch = self._imports_torch or names[0].split(".", 1)[0] == "torch"
        start, end = self.src.node_span(node)
        self.uses.append(Use(names[0], None, UseKind.IMPORT, start, end, start, end))

    # -- uses --------------------------------------------------------------

    def _call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if node.keywords or node.args:
            self._splats(node, scope)
        if type(func) is ast.Name and func.id in _LOOKUPS and self._lookup(node, scope, None):
            return
        if type(func) is ast.Attribute and func.attr == "__init__" and self._super_init(node, func, scope):
            return
        if (type(func) is ast.Call and type(func.func) is ast.Name and func.func.id == "getattr"
                and self._lookup(func, scope, node)):  # fmt: skip
            return
        parts = dotted(func) if isinstance(func, (ast.Attribute, ast.Name)) else None
        if parts is not None:
            recorded = self._chain(func, scope, _ROLE_CALL, node, parts)  # type: ignore[arg-type]
        else:
            recorded = False
            if not isinstance(func, ast.Attribute):
                self.visit(func, scope)
        if not recorded and isinstance(func, ast.Attribute):
            typ = self._obj_type(func.value, scope) if func.attr in self.rules.member_names \
                or self.rules.method(func.attr) is not None else None  # fmt: skip
            if typ is not None and not self._is_tensor_type(typ):
                member = self.rules.member(self._inherited(typ, func.attr), func.attr)
                if member is not None and member.kind is Kind.METHOD:
                    self._method_call(node, func, member, scope, Confidence.MEDIUM)
            else:
                rule = self.rules.method(func.attr)
                if rule is not None and rule.kind is Kind.METHOD:
                    self._method_call(node, func, rule, scope)
            if parts is None:
                self.visit(func.value, scope)
        if not recorded and parts is not None and self.project is not None and self.project.recording:
            self._record_call(node, parts, scope)
        if isinstance(func, ast.Name) and func.id in _TYPE_CHECKS and len(node.args) == 2:
            self.visit(node.args[0], scope)
            self._type_check(node.args[1], scope)
        else:
            for arg in node.args:
                self.visit(arg, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)

    def _lookup(self, node: ast.Call, scope: Scope, outer: ast.Call | None) -> bool:
        """``getattr``/``hasattr``/``dir`` on a torch module: False when ``node`` is not one.

        A literal name resolves statically: ``getattr(nn, 'ReLU')`` is ``nn.ReLU`` (called:
        a call of it, with its argument mapping), ``hasattr(F, 'gelu')`` asks whether the
        converted program has it. Any other name is a runtime lookup (a ``LOOKUP`` use on
        the module). ``outer`` is the call whose callee ``node`` is.
        """
        func = node.func
        assert isinstance(func, ast.Name)
        low, high = {"getattr": (2, 3), "hasattr": (2, 2), "dir": (1, 1)}[func.id]
        if node.keywords or not low <= len(node.args) <= high or not self._builtin(func.id, scope):
            return False
        module = self._module_of(node.args[0], scope)
        if module is None:
            return False
        start, end = self.src.node_span(node)
        if func.id == "dir":  # dir(nn): the names a runtime lookup may find
            self.uses.append(Use(module, None, UseKind.LOOKUP, start, end, start, end))
            if outer is not None:
                self._call_arguments(outer, scope)
            return True
        target, name = node.args[0], node.args[1]
        attr = name.value if isinstance(name, ast.Constant) and isinstance(name.value, str) else None
        literal = attr is not None
        api = canonical(f"{module}.{attr}") if attr is not None else module
        rule = self.rules.get(api) if literal else None
        if rule is not None:
            api = rule.api
        converts = rule is not None and rule.tier is not Tier.MANUAL and rule.paddle is not None
        default = node.args[2] if len(node.args) == 3 else None
        if not literal or func.id == "hasattr" or (not converts and default is not None):
            # a runtime lookup, a feature probe, or `getattr(torch, 'x', default)` with no x in Paddle
            fstart, fend = self.src.node_span(target) if not literal else (start, end)
            self.uses.append(Use(api, rule, UseKind.LOOKUP, start, end, fstart, fend))
            for arg in node.args[1:]:
                self.visit(arg, scope)
        elif outer is not None:  # getattr(nn, 'ReLU')(...): a call of nn.ReLU
            ostart, oend = self.src.node_span(outer)
            self.uses.append(Use(api, rule, UseKind.CALL, ostart, oend, start, end,
                                 splats=self._splats(outer, scope)))  # fmt: skip
        else:
            attribute = rule is not None and rule.kind is Kind.ATTRIBUTE
            kind = UseKind.ATTRIBUTE if attribute else UseKind.REFERENCE
            self.uses.append(Use(api, rule, kind, start, end, start, end))
        if outer is not None:
            self._call_arguments(outer, scope)
        return True

    def _compare(self, node: ast.Compare, scope: Scope) -> bool:
        return self._dir_probe(node, scope) or self._version_check(node, scope)

    def _builtin(self, name: str, scope: Scope) -> bool:
        """``name`` is not bound anywhere in reach: the builtin (``getattr``, ``dir``)."""
        return not any(name in s.locals or name in s.torch for s in _chain_of(scope))

    def _module_of(self, node: ast.expr, scope: Scope) -> str | None:
        """The torch module ``node`` names (``F`` → torch.nn.functional), if it is one."""
        parts = dotted(node) if isinstance(node, (ast.Attribute, ast.Name)) else None
        if parts is None:
            return None
        base, via_alias = scope.lookup(parts[0])
        if base is None or via_alias:
            return None
        module = canonical(".".join([base, *parts[1:]]))
        if self.rules.get(module) is not None:
            return None  # a class such as torch.Tensor: its attributes are its rules' business
        return module

    def _dir_probe(self, node: ast.Compare, scope: Scope) -> bool:
        """``'silu' in dir(F)``: the same feature probe as ``hasattr(F, 'silu')``."""
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.In, ast.NotIn)):
            return False
        left, right = node.left, node.comparators[0]
        if not (isinstance(left, ast.Constant) and isinstance(left.value, str)
                and isinstance(right, ast.Call) and isinstance(right.func, ast.Name)
                and right.func.id == "dir" and len(right.args) == 1 and not right.keywords
                and self._builtin("dir", scope)):  # fmt: skip
            return False
        module = self._module_of(right.args[0], scope)
        if module is None:
            return False
        api = canonical(f"{module}.{left.value}")
        rule = self.rules.get(api)
        start, end = self.src.node_span(node)
        fstart, fend = self.src.node_span(right.args[0])
        self.uses.append(Use(rule.api if rule else api, rule, UseKind.LOOKUP, start, end, fstart, fend))
        return True

    def _version_check(self, node: ast.Compare, scope: Scope) -> bool:
        """``torch.__version__ >= '2.0'``: one ``LOOKUP`` use on the whole comparison.

        Only an ordering against literal strings or tuples qualifies; the rewrite folds it
        for the torch release the rules are verified against, or leaves it with a reason.
        """
        operands = [node.left, *node.comparators]
        versions = [o for o in operands if isinstance(o, ast.Attribute) and o.attr == "__version__"]
        if len(versions) != 1 or len(operands) != 2:
            return False
        parts = dotted(versions[0])
        base = scope.lookup(parts[0])[0] if parts else None
        if parts is None or base is None or canonical(".".join([base, *parts[1:]])) != "torch.__version__":
            return False
        other = operands[1] if versions[0] is operands[0] else operands[0]
        if not isinstance(other, (ast.Constant, ast.Tuple)):
            return False
        start, end = self.src.node_span(node)
        fstart, fend = self.src.node_span(versions[0])
        self.uses.append(Use("torch.__version__", self.rules.get("torch.__version__"), UseKind.LOOKUP,
                             start, end, fstart, fend))  # fmt: skip
        return True

    def _super_init(self, node: ast.Call, func: ast.Attribute, scope: Scope) -> bool:
        """``super().__init__(num_features, eps=eps, ...)`` in a subclass of a torch class: the
        base's constructor, so its arguments are mapped by the base's rule (the callee stays)."""
        inner = func.value
        if not (type(inner) is ast.Call and type(inner.func) is ast.Name and inner.func.id == "super"
                and not inner.args and self.class_types and self.class_types[-1]):  # fmt: skip
            return False
        bases = self.facts.bases.get(self.class_types[-1] or "", ())
        rule = self.rules.get(bases[0]) if bases and bases[0].startswith("torch.") else None
        if rule is None or rule.kind is not Kind.CALLABLE or not rule.converts or not rule.changes_arguments:
            return False
        if rule.torch_layout and self.torch_layout_classes and self.torch_layout_classes[-1]:
            return False  # the base became the class keeping torch's layout, which takes torch's arguments
        start, end = self.src.node_span(node)
        fstart, fend = self.src.node_span(func)
        self.uses.append(Use(rule.api, rule, UseKind.CALL, start, end, fstart, fend, via_alias=True,
                             splats=self._splats(node, scope)))  # fmt: skip
        self._call_arguments(node, scope)
        return True

    def _call_arguments(self, node: ast.Call, scope: Scope) -> None:
        for arg in node.args:
            self.visit(arg, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)

    def _type_check(self, node: ast.expr, scope: Scope) -> None:
        """The classes in ``isinstance(x, (nn.Conv2d, nn.Linear))``."""
        if isinstance(node, (ast.Attribute, ast.Name)) and dotted(node) is not None:
            self._chain(node, scope, _ROLE_TYPE_CHECK, None)
        elif isinstance(node, ast.Tuple):
            for elt in node.elts:
                self._type_check(elt, scope)
        else:
            self.visit(node, scope)

    def _method_call(self, node: ast.Call, func: ast.Attribute, rule: Rule, scope: Scope,
                     known: Confidence | None = None) -> None:  # fmt: skip
        if known is not None:
            conf: int = known
        elif _not_a_tensor(func.value, scope) or _str_method_call(node, func, rule):
            return
        else:
            conf = self._tensor_conf(func.value, scope)
        if not conf:
            if _too_many_positional(node, rule):
                return
            conf = Confidence.LOW if func.attr in AMBIGUOUS_METHODS else Confidence.MEDIUM
        start, end = self.src.node_span(node)
        fend = self.src.offset(func.end_lineno or node.lineno, func.end_col_offset or 0)
        splats = self._splats(node, scope)
        self.uses.append(
            Use(rule.api, rule, UseKind.METHOD_CALL, start, end, fend - len(func.attr), fend,
                Confidence(conf), splats=splats)
        )  # fmt: skip

    def _chain(self, node: ast.Attribute | ast.Name, scope: Scope, role: int,
               call: ast.Call | None, parts: list[str] | None = None) -> bool:  # fmt: skip
        """Record the torch use a dotted name makes; False when it is not torch."""
        if parts is None:
            parts = dotted(node)
        if parts is None:
            assert isinstance(node, ast.Attribute)
            self._tensor_attribute(node, scope)
            self.visit(node.value, scope)
            return False
        base, via_alias = scope.lookup(parts[0])
        if base is None:
            if isinstance(node, ast.Attribute):
                self._member_attributes(node.value if role == _ROLE_CALL else node, scope)
            if role != _ROLE_CALL and self.project is not None and self.project.recording:
                callee = self._callee(parts, scope)
                if callee is not None:
                    self.project.add_escape(callee)  # type: ignore[attr-defined]
            return False
        if type(node) is ast.Name and not isinstance(node.ctx, ast.Load):
            # `except ImportError: ParamsT = Union[...]`: the name is rebound, not torch's any more
            # (renaming it would assign to the Paddle name)
            return True
        rule, api, k = self._resolve(base, tuple(parts[1:]))
        if rule is None and "__dict__" in parts[1:] and self._module_dict(node, parts, base):
            return True
        target: ast.expr = node
        for _ in range(len(parts) - k):
            assert isinstance(target, ast.Attribute)
            target = target.value
        if rule is None and len(parts) == 1 and not via_alias and "." not in base:
            return True  # a bare module name such as `torch` passed around: nothing to map
        fstart, fend = self.src.node_span(target)
        whole_chain = target is node
        if rule is not None and rule.kind is Kind.ATTRIBUTE:
            kind = UseKind.ATTRIBUTE
        elif role == _ROLE_CALL and whole_chain:
            kind = UseKind.CALL
        elif role == _ROLE_BASE and whole_chain:
            kind = UseKind.BASE
        elif role == _ROLE_ANNOTATION and whole_chain:
            kind = UseKind.ANNOTATION
        elif role == _ROLE_TYPE_CHECK and whole_chain:
            kind = UseKind.TYPE_CHECK
        else:
            kind = UseKind.REFERENCE
        if via_alias and kind is not UseKind.CALL:
            return True  # `norm_layer` passed on: the alias's own binding carries the rename
        splats: tuple[str, ...] = ()
        if kind is UseKind.CALL and call is not None:
            start, end = self.src.node_span(call)
            splats = self._splats(call, scope)
        else:
            start, end = fstart, fend
        via_default = via_alias and _bound_by_default(scope, parts[0])
        keep_layout = ((call is not None and kind is UseKind.CALL and id(call) in self.kept_layout)
                       or (kind is UseKind.BASE and id(node) in self.kept_layout))  # fmt: skip
        files: frozenset[str] = frozenset()
        if self.open_files and call is not None and rule is not None and rule.file_arg:
            passed = [*call.args, *(k.value for k in call.keywords)]
            files = frozenset(a.id for a in passed if isinstance(a, ast.Name) and a.id in self.open_files)
        plain = kind is UseKind.REFERENCE and (id(node) in scope.alias_values or id(node) in self.compared)
        self.uses.append(Use(api, rule, kind, start, end, fstart, fend, Confidence.HIGH, via_alias,
                             via_default=via_default, plain_class=plain, splats=splats,
                             keep_layout=keep_layout, open_files=files))  # fmt: skip
        return True

    def _module_dict(self, node: ast.Attribute | ast.Name, parts: list[str], base: str) -> bool:
        """``nn.__dict__``: the module's names, a runtime lookup like ``getattr(nn, name)``."""
        i = parts.index("__dict__", 1)
        module = canonical(".".join([base, *parts[1:i]]))
        if not self.rules.is_namespace(module) or self.rules.get(module) is not None:
            return False
        target: ast.expr = node
        for _ in range(len(parts) - 1 - i):
            assert isinstance(target, ast.Attribute)
            target = target.value
        start, end = self.src.node_span(target)
        self.uses.append(Use(module, None, UseKind.LOOKUP, start, end, start, end))
        return True

    def _resolve(self, base: str, rest: tuple[str, ...]) -> tuple[Rule | None, str, int]:
        """The longest prefix that names a rule (torch.nn.Module.__init__ → torch.nn.Module).

        Returns (rule, api, number of name parts it spans). Memoised: a file
        spells the same few names hundreds of times.
        """
        key = (base, rest)
        hit = self._resolved.get(key)
        if hit is None:
            hit = None, canonical(".".join([base, *rest])), len(rest) + 1
            for k in range(len(rest) + 1, 0, -1):
                rule = self.rules.get(canonical(".".join([base, *rest[: k - 1]])))
                member = rest[k - 1] if k <= len(rest) else ""
                if (rule is not None and member and not member.startswith("__")
                        and rule.kind is Kind.ATTRIBUTE and self.rules.is_namespace(rule.api)):  # fmt: skip
                    # a module used as a value (`torch.cuda`) says nothing of its members (but
                    # `FunctionCtx.__name__` is the class's own name)
                    continue
                if rule is not None:
                    hit = rule, rule.api, k
                    break
            self._resolved[key] = hit
        return hit

    def _member_attributes(self, node: ast.expr, scope: Scope) -> None:
        """Each attribute along a plain chain: `self.bn.running_mean` checks `running_mean` and `bn`."""
        while isinstance(node, ast.Attribute):
            self._tensor_attribute(node, scope)
            node = node.value

    def _tensor_attribute(self, node: ast.Attribute, scope: Scope) -> None:
        attr = node.attr
        rule = self.rules.method(attr)
        if attr in self.rules.member_names or (rule is not None and rule.kind is Kind.ATTRIBUTE):
            if id(node) in self.handled:
                return
            typ = self._obj_type(node.value, scope)
            if typ is not None and not self._is_tensor_type(typ):
                member = self.rules.member(self._inherited(typ, attr), attr)
                if member is not None and member.kind is Kind.ATTRIBUTE:
                    self._record_attribute(node, member, Confidence.MEDIUM, node)
                    return
                if not self.facts.is_a(typ, ot.MODULE):
                    return
            # a layer whose class lacks the member (`nn.Module`, or one of several classes the name
            # is bound to): the converted code knows less, so the next conversion would read it by name
            layer = typ is not None and self.facts.is_a(typ, ot.MODULE)
            by_name = self.rules.by_name.get(attr) if typ is None or layer else None
            if (by_name is not None and isinstance(node.ctx, ast.Load)
                    and (rule is None or rule.kind is Kind.METHOD)  # a tensor method read, not called
                    and not self._tensor_conf(node.value, scope) and not _not_a_tensor(node.value, scope)):
                # a read of a member only torch's class has, or one whose rule checks the type at
                # run time (`conv.out_channels` on a layer from a factory function)
                self._record_attribute(node, by_name, Confidence.MEDIUM, node)
                return
        if rule is None or rule.kind is not Kind.ATTRIBUTE or _not_a_tensor(node.value, scope):
            return
        conf = self._tensor_conf(node.value, scope)
        if not conf:
            conf = Confidence.LOW if attr in AMBIGUOUS_METHODS else Confidence.MEDIUM
        self._record_attribute(node, rule, conf, self.grad_writes.get(id(node), node))

    def _record_attribute(self, node: ast.Attribute, rule: Rule, conf: int, whole: ast.AST,
                          store: bool | None = None) -> None:  # fmt: skip
        """A member attribute use; ``whole`` is the span rewritten (the attribute or a wider use)."""
        start, end = self.src.node_span(whole)
        focus_end = self.src.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
        if store is None:
            store = not isinstance(node.ctx, ast.Load)
        self.uses.append(
            Use(rule.api, rule, UseKind.TENSOR_ATTRIBUTE, start, end, focus_end - len(node.attr),
                focus_end, Confidence(conf), store=store)
        )  # fmt: skip

    # -- tensor inference ----------------------------------------------------

    def _is_tensor_list_annotation(self, node: ast.expr, scope: Scope) -> bool:
        """`List[torch.Tensor]`, `Sequence[Tensor]`, `list[Tensor]`, `Tuple[Tensor, ...]` (optim's functional
        signatures): indexing it gives a tensor."""
        if not (isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute))):
            return False
        name = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
        item = node.slice
        if name in ("Tuple", "tuple") and isinstance(item, ast.Tuple) and len(item.elts) == 2 \
                and isinstance(item.elts[1], ast.Constant) and item.elts[1].value is Ellipsis:  # fmt: skip
            item = item.elts[0]
        elif name not in ("List", "list", "Sequence", "MutableSequence"):
            return False
        return self._is_tensor_annotation(item, scope)

    def _is_tensor_annotation(self, node: ast.expr, scope: Scope) -> bool:
        """`torch.Tensor`, also `Optional[torch.Tensor]` and `torch.Tensor | None` (used, it is a tensor)."""
        if isinstance(node, ast.Subscript) and isinstance(node.value, (ast.Name, ast.Attribute)):
            name = node.value.id if isinstance(node.value, ast.Name) else node.value.attr
            if name == "Optional":
                return self._is_tensor_annotation(node.slice, scope)
            return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            if _is_none(node.right):
                return self._is_tensor_annotation(node.left, scope)
            if _is_none(node.left):
                return self._is_tensor_annotation(node.right, scope)
            return False
        parts = dotted(node)
        if parts is None:
            return False
        base, _ = scope.lookup(parts[0])
        return base is not None and canonical(".".join([base, *parts[1:]])) == "torch.Tensor"

    def _tensor_evidence(self, node: ast.FunctionDef | ast.AsyncFunctionDef, params: list[ast.arg],
                         inner: Scope) -> None:  # fmt: skip
        """A parameter the body calls a tensor-only method on (``t.erfinv_()``, never rebound) is a
        tensor, so its other tensor methods (``t.mul_(2.0)``, ambiguous alone) convert too; one it
        calls a Module-only method on (``net.apply(init)``) is a module."""
        names = {a.arg for a in params if inner.binds.get(a.arg, 1) == 1 and a.arg not in inner.tensors
                 and a.arg not in inner.objects}  # fmt: skip
        if names:  # only names the body writes as a method receiver (`t.`): a text search beats a walk
            start, end = self.src.node_span(node)
            body = self.src.text[start:end]
            names = {n for n in names if f"{n}." in body}
        if not names:
            return
        stack: list[ast.AST] = list(node.body)
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if (type(n) is ast.Call and type(n.func) is ast.Attribute and type(n.func.value) is ast.Name
                    and n.func.value.id in names and n.func.attr in _MODULE_ONLY_METHODS):  # fmt: skip
                inner.objects[n.func.value.id] = ot.MODULE  # `net.apply(init)`: a module passed in
                names.discard(n.func.value.id)
                if not names:
                    return
            elif (type(n) is ast.Call and type(n.func) is ast.Attribute and type(n.func.value) is ast.Name
                    and n.func.value.id in names and n.func.attr not in AMBIGUOUS_METHODS):  # fmt: skip
                rule = self.rules.method(n.func.attr)
                if rule is not None and rule.kind is Kind.METHOD:
                    inner.tensors[n.func.value.id] = Confidence.MEDIUM
                    names.discard(n.func.value.id)
                    if not names:
                        return
            stack.extend(ast.iter_child_nodes(n))

    def _infer_tensors(self, scope: Scope) -> None:
        for _ in range(2):  # twice: `a = f(x); b = a + 1` in either order
            for names, value in scope.assigns:
                conf = self._tensor_conf(value, scope)
                if conf:
                    for name in names:
                        if scope.tensors.get(name, 0) < conf:
                            scope.tensors[name] = conf
        self._infer_objects(scope)

    def _tensor_conf(self, node: ast.expr, scope: Scope) -> int:
        """How sure we are that ``node`` evaluates to a tensor (0: no idea)."""
        t = type(node)
        if t is ast.Name:
            s: Scope | None = scope
            name = node.id  # type: ignore[attr-defined]
            while s is not None:
                if name in s.tensors:
                    return s.tensors[name]
                if name in s.locals:
                    return 0
                s = s.parent
            return 0
        if t is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if isinstance(func, (ast.Attribute, ast.Name)):
                parts = dotted(func)
                if parts is not None:
                    base, _ = scope.lookup(parts[0])
                    if base is not None:
                        rule = self.rules.get(canonical(".".join([base, *parts[1:]])))
                        return Confidence.HIGH if rule is not None and rule.returns_tensor else 0
                    if len(parts) == 2 and self._this_module(parts[0], scope):  # d2l.arange(n)
                        assert self.module_scope is not None
                        own = ast.Call(func=ast.Name(parts[1], ast.Load()), args=node.args,  # type: ignore[attr-defined]
                                       keywords=node.keywords)  # type: ignore[attr-defined]  # fmt: skip
                        return self._tensor_conf(own, self.module_scope)
                    if len(parts) == 1 and self.local_returns:
                        conf = self._local_call(parts[0], scope)
                        if conf:
                            return conf
                    if self.project is not None:
                        conf = self._project_call(parts, node, scope)  # type: ignore[arg-type]
                        if conf:
                            return conf
                if isinstance(func, ast.Attribute):
                    if isinstance(func.value, ast.Name) and func.value.id == "self":
                        # a submodule applied to a tensor: self.proj(x)
                        args = node.args  # type: ignore[attr-defined]
                        if any(self._tensor_conf(a, scope) for a in args):
                            return Confidence.MEDIUM
                        return 0
                    rule = self.rules.method(func.attr)
                    if rule is not None and not rule.returns_tensor:
                        return 0
                    inner = self._tensor_conf(func.value, scope)
                    if inner:
                        return inner
                    if (rule is not None and rule.kind is Kind.METHOD and func.attr not in AMBIGUOUS_METHODS
                            and not _not_a_tensor(func.value, scope)):  # fmt: skip
                        return Confidence.MEDIUM  # as sure as the tensor-only method call itself
            if isinstance(func, (ast.Name, ast.Attribute)):  # a torch layer applied: model(x)
                callee = self._obj_type(func, scope)
                if callee is not None and callee.startswith("torch.") and self.facts.is_a(callee, ot.MODULE):
                    return Confidence.MEDIUM
            return 0
        if t is ast.BinOp:
            return max(self._tensor_conf(node.left, scope), self._tensor_conf(node.right, scope))  # type: ignore[attr-defined]
        if t is ast.UnaryOp:
            return self._tensor_conf(node.operand, scope)  # type: ignore[attr-defined]
        if t is ast.Subscript:
            value = node.value  # type: ignore[attr-defined]
            index = node.slice  # type: ignore[attr-defined]
            listed = type(value) is ast.Name and scope.is_tensor_list(value.id)
            if listed and type(index) is not ast.Slice:
                return Confidence.MEDIUM  # `exp_avgs[i]` of `exp_avgs: List[Tensor]`
            return self._tensor_conf(value, scope)
        if (t is ast.Attribute and self.class_tensors and isinstance(node.value, ast.Name)  # type: ignore[attr-defined]
                and node.value.id == "self" and node.attr in self.class_tensors[-1]):  # type: ignore[attr-defined]
            return Confidence.MEDIUM
        if t is ast.Attribute:
            if node.attr in ("T", "mT", "data", "grad"):  # type: ignore[attr-defined]
                return self._tensor_conf(node.value, scope)  # type: ignore[attr-defined]
            typ = self._obj_type(node, scope)  # bn.running_mean, a tensor attribute of a module
            if typ is not None and self._is_tensor_type(typ):
                return Confidence.MEDIUM
            if (self.project is not None and self.self_class
                    and isinstance(node.value, ast.Name) and node.value.id == "self"):  # type: ignore[attr-defined]  # fmt: skip
                return self.project.attribute_conf(self.self_class, node.attr)  # type: ignore[attr-defined]
            return 0
        if t is ast.IfExp:
            body, orelse = node.body, node.orelse  # type: ignore[attr-defined]
            if _is_none(orelse):  # `nn.Parameter(..) if cls_token else None`: a tensor where used as one
                return self._tensor_conf(body, scope)
            if _is_none(body):
                return self._tensor_conf(orelse, scope)
            return min(self._tensor_conf(body, scope), self._tensor_conf(orelse, scope))
        return 0

    # -- type promotion --------------------------------------------------------

    def _inplace(self, node: ast.AugAssign, scope: Scope) -> None:
        """An ``INPLACE`` use on ``x += v`` where ``x`` is an item of a ``List[Tensor]`` parameter
        (``step_t = state_steps[i]``, ``for step_t in state_steps``), as optimizers count their steps:
        torch adds in place, so the list's tensor changes; Paddle's ``+=`` binds a new tensor to ``x``
        and the list keeps the old one. Only a plain value (names, numbers, arithmetic of them), so no
        other use lies inside the statement."""
        target = node.target
        if (type(target) is not ast.Name or not isinstance(node.op, _INPLACE_OPS)
                or not _plain_value(node.value)):  # fmt: skip
            return
        name = target.id
        if scope.binds.get(name, 0) - scope.augmented.get(name, 0) != 1:
            return
        item = any(name in names and type(value) is ast.Subscript and type(value.value) is ast.Name
                   and type(value.slice) is not ast.Slice and scope.is_tensor_list(value.value.id)
                   for names, value in scope.assigns)  # fmt: skip
        looped = any(type(t) is ast.Name and t.id == name and type(it) is ast.Name
                     and scope.is_tensor_list(it.id) for t, it in scope.loops)  # fmt: skip
        if not (item or looped):
            return
        start, end = self.src.node_span(node)
        self.uses.append(Use(INPLACE_API, None, UseKind.INPLACE, start, end, start, end))

    def _promotion(self, node: ast.BinOp | ast.Compare | ast.AugAssign, scope: Scope) -> None:
        """A ``PROMOTE`` use on the operand of ``node`` that torch would promote to the other's
        floating dtype and Paddle refuses to: one known to be an integer tensor (cast), or a
        tensor of unknown dtype (cast at run time if it is an integer). Recorded before the
        operand's own uses, so that it encloses a use with the same span."""
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1 or not isinstance(node.ops[0], dt.PROMOTING_COMPARISONS):
                return
            left, right = node.left, node.comparators[0]
        elif not isinstance(node.op, dt.PROMOTING_OPS):
            return
        elif isinstance(node, ast.AugAssign):
            left, right = node.target, node.value
        else:
            left, right = node.left, node.right
        if type(left) is ast.Constant or type(right) is ast.Constant:  # a Python scalar: Paddle promotes
            return
        ld, rd = self.dtypes.of(left, scope), self.dtypes.of(right, scope)
        if dt.is_float(ld) and not dt.is_float(rd):
            floating, fd, operand, od = left, ld, right, rd
        elif dt.is_float(rd) and not dt.is_float(ld) and not isinstance(node, ast.AugAssign):
            floating, fd, operand, od = right, rd, left, ld
        else:
            return
        if (isinstance(operand, ast.Call) and isinstance(operand.func, (ast.Attribute, ast.Name))
                and (dotted(operand.func) or [""])[-1] in _CAST_CALLS):  # fmt: skip
            return
        runtime = not dt.is_integer(od)
        if runtime and fd == dt.FLOATING:
            return  # a floating kind deduced from the other operands of unknown dtype: theirs, most likely
        if runtime and not (self._tensor_conf(operand, scope) or _indexes_new_axis(operand)):
            return  # not known to be a tensor: a Python number or unknown object stays as written
        if fd in (dt.DEFAULT, dt.LOSS, dt.FLOATING):
            if isinstance(floating, ast.Name):
                target = f"{floating.id}.dtype"
            elif fd == dt.DEFAULT:
                target = "paddle.get_default_dtype()"
            else:
                return
        else:
            target = repr(fd)
        start, end = self.src.node_span(operand)
        conf = Confidence.MEDIUM if runtime else Confidence.HIGH
        self.uses.append(Use(PROMOTE_API, None, UseKind.PROMOTE, start, end, start, end, conf,
                             promote_to=target, promote_runtime=runtime))  # fmt: skip

    def _torch_name(self, node: ast.expr, scope: Scope) -> str | None:
        """The canonical torch name a dotted expression refers to (``torch.float32``), or None."""
        parts = dotted(node)
        if parts is None:
            return None
        base, _ = scope.lookup(parts[0])
        if base is None:
            if len(parts) == 2 and self._this_module(parts[0], scope):  # d2l.arange, d2l.float32
                assert self.module_scope is not None
                return self._torch_name(ast.Name(parts[1], ast.Load()), self.module_scope)
            return None
        return canonical(".".join([base, *parts[1:]]))

    def _is_loss(self, node: ast.Call, scope: Scope) -> bool:
        """The call computes a torch loss: a loss module or function, or ``super().forward(...)``
        in a subclass of one. Its result is floating."""
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr == "forward" and isinstance(func.value, ast.Call)
                and isinstance(func.value.func, ast.Name) and func.value.func.id == "super"):  # fmt: skip
            cls = self.class_types[-1] if self.class_types else None
            return cls is not None and any(_loss_name(b) for b in self.facts.mro(cls))
        if not isinstance(func, (ast.Attribute, ast.Name)):
            return False
        api = self._torch_name(func, scope)
        if api is not None:
            name = api.rsplit(".", 1)[-1]
            return api.startswith("torch.nn.functional.") and (
                name.endswith(("_loss", "entropy", "entropy_with_logits")) or name == "kl_div")
        typ = self._obj_type(func, scope)
        return typ is not None and typ.startswith("torch.") and _loss_name(typ)

    # -- object types --------------------------------------------------------

    def _is_tensor_type(self, typ: str) -> bool:
        return typ == ot.TENSOR or (typ.startswith("torch.") and self.facts.is_a(typ, ot.TENSOR))

    def _class_facts(self, tree: ast.Module, scope: Scope) -> None:
        """Bases and ``self.<attr>`` types of the file's classes (module level, and under ``if``)."""
        classes: list[ast.ClassDef] = []
        stack: list[ast.stmt] = list(tree.body)
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, ast.ClassDef):
                classes.append(stmt)
            elif isinstance(stmt, (ast.If, ast.Try)):
                stack.extend(stmt.body)
                stack.extend(stmt.orelse)
        for cls in classes:
            self.local_classes[cls.name] = ot.LOCAL + cls.name
            self.local_class_nodes[ot.LOCAL + cls.name] = cls
        for cls in classes:
            bases: list[str] = []
            for base in cls.bases:
                typ = self._class_type(base, scope)
                if typ == ot.OPTIMIZER and self._helper_base(typ):
                    typ = ot.HELPER_OPTIMIZER
                if typ is not None:
                    bases.append(typ)
            self.facts.bases[ot.LOCAL + cls.name] = tuple(bases)
        self.facts.changed()
        for cls in classes:
            key = ot.LOCAL + cls.name
            if self.facts.torch_base(key) is None:
                continue
            attrs = self.facts.attrs.setdefault(key, {})
            for fn in cls.body:
                if not isinstance(fn, _FUNCS):
                    continue
                fstack: list[ast.stmt] = list(fn.body)
                while fstack:
                    stmt = fstack.pop()
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target = stmt.targets[0]
                        if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                                and target.value.id == "self"):  # fmt: skip
                            typ = self._obj_type(stmt.value, scope)
                            old = attrs.get(target.attr)
                            if typ is not None and old in (None, typ):
                                attrs[target.attr] = typ
                            elif old is not None and old != typ:
                                attrs[target.attr] = ""  # assigned different things: unknown
                    elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.Try)):
                        for field_name in ("body", "orelse", "finalbody"):
                            fstack.extend(getattr(stmt, field_name, []))
            for name in [n for n, t in attrs.items() if not t]:
                del attrs[name]
        self.facts.changed()

    def _helper_base(self, api: str) -> bool:
        """A subclass of ``api`` derives from a helper written into the file with torch's API."""
        rule = self.rules.get(api)
        return (rule is not None and rule.converts and rule.paddle is None
                and rule.transform == "vision_helper")  # fmt: skip

    def _class_type(self, node: ast.expr, scope: Scope) -> str | None:
        """The instance type named by a class expression (``nn.Linear``, ``Net``), if known."""
        parts = dotted(node)
        if parts is None:
            return None
        base, _ = scope.lookup(parts[0])
        if base is not None:
            api = canonical(".".join([base, *parts[1:]]))
            return api if ot.is_torch_class(api) else None
        if len(parts) == 1 and self._module_level(parts[0], scope):
            local = self.local_classes.get(parts[0])
            if local is not None:
                return local
            if ot.LOCAL + parts[0] in self.facts.bases:  # imported: typed by facts from outside
                return ot.LOCAL + parts[0]
        return None

    def _this_module(self, name: str, scope: Scope) -> bool:
        """``name`` is the module's handle on itself (``d2l = sys.modules[__name__]``)."""
        return self.module_scope is not None and name in self.module_scope.this_module \
            and self._module_level(name, scope)  # fmt: skip

    def _module_level(self, name: str, scope: Scope) -> bool:
        s: Scope | None = scope
        while s is not None and s.parent is not None:
            if name in s.locals or name in s.torch:
                return False
            s = s.parent
        return True

    def _inherited(self, typ: str, member: str) -> list[str]:
        """``typ``'s ancestry up to the first class of this file that defines ``member`` itself:
        ``self.reset_parameters()`` in a Conv2d subclass overriding it calls the override (and a
        ``self.padding = ...`` of its own is read as such), while ``super().reset_parameters()``
        (typed as the base) calls torch's."""
        mro = self.facts.mro(typ)
        for i, cls in enumerate(mro):
            if cls in self.local_class_nodes and member in self._members_of(cls):
                return mro[:i]
        return mro

    def _obj_type(self, node: ast.expr, scope: Scope) -> str | None:
        """The type of ``node``'s value in the model of :mod:`objtypes`, or None when unknown."""
        t = type(node)
        if t is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            narrowed = self.narrowed.get(name)
            if narrowed is not None:
                return narrowed
            s: Scope | None = scope
            while s is not None:
                if name in s.tensors:
                    return ot.TENSOR
                typ = s.objects.get(name)
                if typ is not None:
                    return typ
                if name in s.locals:
                    return None
                s = s.parent
            return None
        if t is ast.Attribute:
            inner = self._obj_type(node.value, scope)  # type: ignore[attr-defined]
            if inner is None:
                return None
            if inner in (ot.TENSOR, ot.NDARRAY):
                attr = node.attr  # type: ignore[attr-defined]
                return inner if attr in ("T", "mT", "data", "grad", "real", "imag") else None
            return ot.member_result(inner, node.attr, self.facts, call=False)  # type: ignore[attr-defined]
        if t is ast.Call:
            return self._call_type(node, scope)  # type: ignore[arg-type]
        if t is ast.Subscript:
            inner = self._obj_type(node.value, scope)  # type: ignore[attr-defined]
            if inner is None:
                return None
            if inner in (ot.STR, ot.NDARRAY, ot.TENSOR):
                return inner
            return ot.item_type(inner, self.facts)
        if t is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            return ot.STR if isinstance(value, str) else None
        if t is ast.JoinedStr:
            return ot.STR
        if t is ast.List or t is ast.ListComp:
            return ot.LIST
        if t is ast.Dict or t is ast.DictComp:
            return ot.DICT
        if t is ast.BinOp:
            left = self._obj_type(node.left, scope)  # type: ignore[attr-defined]
            return left if left in (ot.STR, ot.NDARRAY) else None
        return None

    def _call_type(self, node: ast.Call, scope: Scope) -> str | None:
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
            if name == "super" and not node.args and self.class_types and self.class_types[-1]:
                bases = self.facts.bases.get(self.class_types[-1] or "", ())
                return bases[0] if bases else None
            builtin = _BUILTIN_RESULTS.get(name)
            if builtin is not None and self._module_level(name, scope) \
                    and name not in self.local_classes:  # fmt: skip
                s: Scope | None = scope
                while s is not None:  # not rebound anywhere up to the module
                    if name in s.locals or name in s.torch:
                        return None
                    s = s.parent
                return builtin
        parts = dotted(func) if isinstance(func, (ast.Attribute, ast.Name)) else None
        if parts is not None:
            base, _ = scope.lookup(parts[0])
            if base is not None:
                api = canonical(".".join([base, *parts[1:]]))
                rule = self.rules.get(api)
                if rule is not None and rule.returns_tensor:
                    return ot.TENSOR
                if ot.is_torch_class(api):
                    return ot.TENSOR if self.facts.is_a(api, ot.TENSOR) else api
                return None
            if len(parts) == 1:
                name = parts[0]
                key = self.local_classes.get(name) or (
                    ot.LOCAL + name if ot.LOCAL + name in self.facts.bases else None)
                if key is not None and self._module_level(name, scope):
                    return key
            elif len(parts) == 2 and self._this_module(parts[0], scope):
                # `d2l.Accumulator(3)` / `d2l.arange(n)` where `d2l = sys.modules[__name__]`: the
                # module's own class, or its own name for a torch function (`arange = torch.arange`)
                assert self.module_scope is not None
                return self._call_type(ast.Call(func=ast.Name(parts[1], ast.Load()), args=node.args,
                                                keywords=node.keywords), self.module_scope)  # fmt: skip
            else:
                root = scope.import_root(parts[0])
                if root == "numpy":
                    return ot.NDARRAY
                if root == "paddle" and parts[-1][:1].isupper():
                    return ".".join(parts)  # a Paddle layer or optimizer: never a torch tensor
        if isinstance(func, ast.Attribute):
            recv = self._obj_type(func.value, scope)
            if recv is None:
                return None
            attr = func.attr
            if recv == ot.TENSOR:
                if attr == "numpy":
                    return ot.NDARRAY
                if attr == "tolist":
                    return ot.LIST
                return None
            if recv == ot.NDARRAY:
                return ot.LIST if attr == "tolist" else (None if attr == "item" else ot.NDARRAY)
            if recv == ot.STR:
                if attr in _STR_RESULTS:
                    return ot.STR
                return ot.LIST if attr in ("split", "rsplit", "splitlines") else None
            if recv in ot.NOT_TENSOR:
                return None
            return ot.member_result(recv, attr, self.facts, call=True)
        callee = self._obj_type(func, scope)
        if callee is not None and not callee.startswith(("builtins.", "numpy.")) \
                and self.facts.is_a(callee, ot.MODULE):  # fmt: skip
            return ot.TENSOR if callee.startswith("torch.") else None
        return None

    def _bind_type(self, target: ast.expr, typ: str | None, seen: dict[str, str | None],
                   counts: dict[str, int]) -> None:  # fmt: skip
        """Record that ``target`` gets a value of type ``typ`` (None: unknown) in one binding."""
        if isinstance(target, ast.Name):
            name = target.id
            seen[name] = typ if seen.get(name, typ) == typ else None
            counts[name] = counts.get(name, 0) + 1
        elif isinstance(target, (ast.Tuple, ast.List)):
            parts = ot.unpack(typ, len(target.elts)) if typ else [None] * len(target.elts)
            for elt, part in zip(target.elts, parts, strict=True):
                self._bind_type(elt, part, seen, counts)

    def _infer_objects(self, scope: Scope) -> None:
        """Types of a scope's names: a name is typed only when every binding of it agrees."""
        if not scope.assigns and not scope.loops:
            return
        seen: dict[str, str | None] = {}
        counts: dict[str, int] = {}
        for names, value in scope.assigns:
            typ = self._obj_type(value, scope)
            if len(names) == 1:
                self._bind_type(ast.Name(id=names[0]), typ, seen, counts)
            else:
                self._bind_type(ast.Tuple(elts=[ast.Name(id=n) for n in names]), typ, seen, counts)
        for target, iterable in scope.loops:
            outer = self._obj_type(iterable, scope)
            element = ot.iter_element(outer, self.facts) if outer else None
            self._bind_type(target, element, seen, counts)
        for name, typ in seen.items():
            if typ is None or scope.binds.get(name, 0) != counts[name]:
                continue  # unknown, or bound elsewhere too (a parameter, `+=`, `with` ...)
            if self._is_tensor_type(typ):
                scope.tensors.setdefault(name, Confidence.MEDIUM)
            elif name not in scope.tensors:
                scope.objects[name] = typ

    def _narrowing(self, node: ast.If, scope: Scope) -> bool:
        """``if isinstance(m, nn.BatchNorm2d):`` types ``m`` in the body; False when not such a test."""
        test = node.test
        if not (isinstance(test, ast.Call) and isinstance(test.func, ast.Name)
                and test.func.id == "isinstance" and len(test.args) == 2
                and isinstance(test.args[0], ast.Name)):  # fmt: skip
            return False
        classes = test.args[1].elts if isinstance(test.args[1], ast.Tuple) else [test.args[1]]
        types = [self._class_type(c, scope) for c in classes]
        if not types or any(t is None for t in types):
            return False
        common = [c for c in self.facts.mro(types[0] or "")
                  if all(c in self.facts.mro(t or "") for t in types[1:])]  # fmt: skip
        if not common:
            return False
        name = test.args[0].id
        self.visit(test, scope)
        previous = self.narrowed.get(name)
        self.narrowed[name] = common[0]
        for stmt in node.body:
            self.visit(stmt, scope)
        if previous is None:
            del self.narrowed[name]
        else:
            self.narrowed[name] = previous
        for stmt in node.orelse:
            self.visit(stmt, scope)
        return True

    def _wide_member_attribute(self, node: ast.expr, scope: Scope) -> tuple[ast.Attribute, Rule] | None:
        """The member attribute at the root of ``x.attr[i][j]`` whose rule rewrites wider uses."""
        while isinstance(node, ast.Subscript):
            node = node.value
        if not isinstance(node, ast.Attribute) or node.attr not in self.rules.member_names:
            return None
        typ = self._obj_type(node.value, scope)
        if typ is None:
            by_name = self.rules.by_name.get(node.attr)
            if by_name is None or self._tensor_conf(node.value, scope) or _not_a_tensor(node.value, scope):
                return None
            # a formula rewrites the attribute alone (`list(m._parameters)`), whatever surrounds it
            return (node, by_name) if by_name.transform not in (None, "formula") else None
        if self._is_tensor_type(typ):
            return None
        rule = self.rules.member(self.facts.mro(typ), node.attr)
        if rule is None or rule.kind is not Kind.ATTRIBUTE or rule.transform in (None, "formula"):
            return None
        return node, rule

    def _mark_handled(self, node: ast.expr) -> None:
        while isinstance(node, ast.Subscript):
            self.handled.add(id(node))
            node = node.value
        self.handled.add(id(node))

    def _wide_member(self, node: ast.AST, scope: Scope) -> bool:
        """A member attribute whose rule's transform rewrites the whole of
        ``opt.param_groups[0]['lr']``, ``opt.param_groups[0]['lr'] = v`` or
        ``for g in opt.param_groups: g['lr'] = v``; the children are then visited as usual.
        """
        if id(node) in self.handled or not self.rules.member_names:
            return False
        store = False
        if isinstance(node, ast.Subscript):
            found = self._wide_member_attribute(node, scope)
            marked: ast.expr = node
            store = not isinstance(node.ctx, ast.Load)
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Subscript):
                return False
            marked = targets[0]
            found = self._wide_member_attribute(marked, scope)
            store = True
        elif isinstance(node, ast.For):
            if not isinstance(node.iter, ast.Attribute) or node.orelse:
                return False
            marked = node.iter
            found = self._wide_member_attribute(marked, scope)
        else:
            return False
        if found is None:
            return False
        attribute, rule = found
        self._mark_handled(marked)
        self._record_attribute(attribute, rule, Confidence.MEDIUM, node, store=store)
        return False
    def _local_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope,
                        inner: Scope) -> None:  # fmt: skip
        """A helper nested in a function: calls of it below give a tensor when all its returns do."""
        returns = [r.value for r in _returns(node.body) if r.value is not None and not _is_none(r.value)]
        conf = min((self._tensor_conf(v, inner) for v in returns), default=0)
        if conf:
            self.local_returns[(id(scope), node.name)] = conf
            self._pinned.append(scope)

    def _local_call(self, name: str, scope: Scope) -> int:
        s: Scope | None = scope
        while s is not None and s.parent is not None:
            if name in s.locals:
                return self.local_returns.get((id(s), name), 0)
            s = s.parent
        return 0

    # -- the project index (batch conversion) ----------------------------------

    def _callee(self, parts: list[str], scope: Scope) -> tuple[str, tuple[str, ...]] | None:
        """A dotted name as the project index sees it: `self.m` in a class, or a module-level name."""
        if parts[0] == "self":
            return (self.self_class, tuple(parts)) if self.self_class and len(parts) == 2 else None
        s: Scope | None = scope
        while s is not None and s.parent is not None:
            if parts[0] in s.locals or parts[0] in s.tensors:
                return None
            s = s.parent
        if s is None or parts[0] not in s.locals:
            return None
        return "", tuple(parts)

    def _project_call(self, parts: list[str], node: ast.Call, scope: Scope) -> int:
        assert self.project is not None
        callee = self._callee(parts, scope)
        if callee is None:
            return 0
        return self.project.call_conf(callee[0], parts, node.args, lambda a: self._tensor_conf(a, scope))

    def _record_call(self, node: ast.Call, parts: list[str], scope: Scope) -> None:
        callee = self._callee(parts, scope)
        if callee is None:
            return
        args = tuple(0 if isinstance(a, ast.Starred) else self._tensor_conf(a, scope) for a in node.args)
        keywords = tuple((kw.arg, self._tensor_conf(kw.value, scope)) for kw in node.keywords if kw.arg)
        open_ended = any(isinstance(a, ast.Starred) for a in node.args) or any(
            kw.arg is None for kw in node.keywords)
        self.project.add_call(px.CallSite(callee, args, keywords, open_ended))  # type: ignore[union-attr]

    def _record_class(self, node: ast.ClassDef, scope: Scope) -> None:
        """Project bases, tensor attributes and `self.x = Foo(...)` instances, for other files."""
        bases = tuple(tuple(p) for p in (dotted(b) for b in node.bases
                                         if isinstance(b, (ast.Attribute, ast.Name))) if p)  # fmt: skip
        info = px.ClassInfo(bases, {a: Confidence.MEDIUM for a in self.class_tensors[-1]})
        made: dict[str, tuple[str, ...] | None] = {}
        for sub in _statements([s for s in node.body if isinstance(s, _FUNCS)]):
            if not (isinstance(sub, ast.Assign) and len(sub.targets) == 1):
                continue
            target, value = sub.targets[0], sub.value
            if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id == "self"):  # fmt: skip
                continue
            parts = dotted(value.func) if isinstance(value, ast.Call) and isinstance(
                value.func, (ast.Attribute, ast.Name)) else None  # fmt: skip
            previous = made.get(target.attr, ())
            made[target.attr] = tuple(parts) if parts and previous in ((), tuple(parts)) else None
        info.instances = {k: v for k, v in made.items() if v and scope.lookup(v[0])[0] is None}
        self.project.add_class(node.name, info)  # type: ignore[union-attr]

    def _record_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, qual: str, inner: Scope,
                         is_method: bool) -> None:  # fmt: skip
        """What the function returns, in terms a caller elsewhere can evaluate."""
        escapes, static = px.plain_decorators(node)
        args = node.args
        positional = [a.arg for a in (*args.posonlyargs, *args.args)]
        if is_method and not static and positional:
            positional = positional[1:]
        params = tuple(positional) + tuple(a.arg for a in args.kwonlyargs)
        info = px.FunctionInfo(params, escapes=escapes)
        returns = [r.value for r in _returns(node.body) if r.value is not None and not _is_none(r.value)]
        index = {p: i for i, p in enumerate(params)}
        for value in returns:
            conf = self._tensor_conf(value, inner)
            if conf:
                info.returns.append((px.TENSOR, conf))
                continue
            ret = self._symbolic_return(value, inner, index)
            if ret is None:
                info.returns = []
                break
            info.returns.append(ret)
        self.project.add_function(qual, info)  # type: ignore[union-attr]

    def _symbolic_return(self, value: ast.expr, scope: Scope, index: dict[str, int]) -> px.Ret | None:
        """`return x[:, 1:]` → its parameter x; `return helper(x)` → helper's result for x."""
        if isinstance(value, (ast.Tuple, ast.List, ast.Dict, ast.Set, ast.Constant, ast.JoinedStr,
                              ast.Compare, ast.ListComp, ast.DictComp, ast.Lambda)):  # fmt: skip
            return None
        for name, i in list(index.items())[:6]:  # a parameter that makes the result a tensor
            if name in scope.tensors:
                continue
            scope.tensors[name] = Confidence.MEDIUM
            saved = dict(scope.tensors)
            self._infer_tensors(scope)
            conf = self._tensor_conf(value, scope)
            scope.tensors.clear()
            scope.tensors.update(saved)
            del scope.tensors[name]
            if conf:
                return px.PARAM, i
        if isinstance(value, ast.Call) and isinstance(value.func, (ast.Attribute, ast.Name)):
            parts = dotted(value.func)
            callee = self._callee(parts, scope) if parts else None
            if callee is not None and not any(isinstance(a, ast.Starred) for a in value.args):
                spec = tuple(-1 - index[a.id] if isinstance(a, ast.Name) and a.id in index
                             and a.id not in scope.tensors else self._tensor_conf(a, scope)
                             for a in value.args)  # fmt: skip
                return px.CALL, callee, spec
        return None
