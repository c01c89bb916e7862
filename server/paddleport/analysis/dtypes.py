"""What the analysis knows about tensors' dtypes: enough to reproduce torch's type promotion.

torch promotes an integer or bool tensor meeting a floating one in arithmetic or a comparison
(``arange(n, dtype=float32)[None, :] < valid_len[:, None]`` with int64 ``valid_len``); Paddle
3.3.1 raises "Type promotion only support calculations between floating-point numbers" for
any two tensors of different kinds (and even int32 with int64). The analysis records a
``PROMOTE`` use where a binary operation mixes a tensor known to be floating with one known
to be an integer (cast statically) or a tensor of unknown dtype (cast at run time when it is
an integer). Facts come only from what the code spells: an explicit ``dtype=``, literals
(``torch.tensor([1, 2])`` is int64, ``torch.tensor([0.5])`` the default float dtype),
``.long()`` / ``.float()``, factories that always make floats (``randn``, ``zeros``), loss
results, and names bound once or always to the same dtype. Anything else is unknown.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from paddleport.analysis.scopes import Scope

# A dtype fact: an exact Paddle dtype name ("float32", "int64", "bool"), DEFAULT (torch's
# default floating dtype, what ``randn`` makes), LOSS (a loss value: floating), or FLOATING (some
# floating dtype, deduced from an operation: `x.div(n)`, `x.mean()`, `x * y` with a floating x).
DEFAULT = "default"
LOSS = "loss"
FLOATING = "floating"
_FLOATS = frozenset({"float16", "bfloat16", "float32", "float64", DEFAULT, LOSS, FLOATING})
_INTEGERS = frozenset({"bool", "uint8", "int8", "int16", "int32", "int64"})

# torch dtype attribute (last part of its canonical name) -> Paddle dtype name
TORCH_DTYPES = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64", "long": "int64",
    "int32": "int32", "int": "int32", "int16": "int16", "short": "int16", "int8": "int8",
    "uint8": "uint8", "bool": "bool",
}  # fmt: skip
# tensor methods that convert to a fixed dtype
_CAST_METHODS = {"float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16",
                 "long": "int64", "int": "int32", "short": "int16", "char": "int8", "byte": "uint8",
                 "bool": "bool"}  # fmt: skip
# tensor methods whose result has the receiver's dtype
_SAME_METHODS = frozenset({
    "reshape", "view", "unsqueeze", "squeeze", "transpose", "permute", "t", "flatten", "clone", "detach",
    "contiguous", "expand", "expand_as", "repeat", "flip", "cpu", "cuda", "abs", "neg", "relu", "clamp",
    "clip", "roll", "tril", "triu", "repeat_interleave", "narrow", "unfold", "masked_fill", "index_select",
    "gather", "requires_grad_",
})  # fmt: skip
# tensor methods and torch functions whose result is always floating: a floating input's dtype, the
# default dtype for an integer one (true division, transcendental functions)
_FLOATING_RESULTS = frozenset({
    "div", "true_divide", "sqrt", "rsqrt", "exp", "log", "log2", "log10", "log1p", "expm1", "sin", "cos",
    "tan", "sigmoid", "tanh", "softmax", "log_softmax", "erf", "reciprocal", "mean", "std", "var", "norm",
})  # fmt: skip
# torch functions: always floating (the default dtype without dtype=), int64, or the first
# tensor argument's dtype (every tensor argument's, when they agree)
_DEFAULT_FACTORIES = frozenset({"randn", "rand", "normal", "zeros", "ones", "empty", "linspace", "logspace",
                                "eye", "Tensor"})  # fmt: skip
_FIXED_FACTORIES = {"randint": "int64", "randperm": "int64", "LongTensor": "int64", "FloatTensor": "float32",
                    "DoubleTensor": "float64", "BoolTensor": "bool"}  # fmt: skip
_LIKE = frozenset({"zeros_like", "ones_like", "empty_like", "rand_like", "randn_like", "full_like",
                   "clone"})  # fmt: skip
_SAME_FUNCTIONS = frozenset({
    "matmul", "mm", "bmm", "abs", "relu", "neg", "cat", "concat", "stack", "reshape", "transpose", "permute",
    "flatten", "unsqueeze",
    "squeeze", "tril", "triu", "repeat_interleave", "roll", "clamp", "clip", "flip", "gelu", "silu", "pow",
})  # fmt: skip
_LITERAL_DATA = frozenset({"tensor", "as_tensor"})
_RANGES = frozenset({"arange", "range"})

# Binary operators torch promotes and Paddle refuses between kinds (``@`` raises in both)
PROMOTING_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
PROMOTING_COMPARISONS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)


def is_float(dtype: str | None) -> bool:
    return dtype in _FLOATS


def is_integer(dtype: str | None) -> bool:
    return dtype in _INTEGERS


def _literal_kind(node: ast.expr) -> str | None:
    """The dtype torch gives literal data: int64, bool, DEFAULT (any float), None (not literal)."""
    kinds: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.List, ast.Tuple)):
            stack.extend(n.elts)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            stack.append(n.operand)
        elif isinstance(n, ast.Constant) and isinstance(n.value, bool):
            kinds.add("bool")
        elif isinstance(n, ast.Constant) and isinstance(n.value, int):
            kinds.add("int64")
        elif isinstance(n, ast.Constant) and isinstance(n.value, float):
            kinds.add(DEFAULT)
        else:
            return None
    if DEFAULT in kinds:
        return DEFAULT
    if "int64" in kinds:
        return "int64"
    return "bool" if kinds else None


def _number(node: ast.expr) -> str | None:
    """``int`` or ``float`` for a numeric literal (a Python scalar: it never changes a tensor's dtype
    kind in torch, except an int tensor meeting a float scalar)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
        if isinstance(node.value, int):
            return "int"
        if isinstance(node.value, float):
            return "float"
    return None


def _floating(dtype: str | None) -> str:
    """The dtype of a result that is always floating, from its input's."""
    if dtype in (LOSS, FLOATING) or dtype is None:
        return FLOATING
    return dtype if is_float(dtype) else DEFAULT


def _rounds(node: ast.Call) -> bool:
    """``div(..., rounding_mode=...)`` keeps integers."""
    return any(k.arg == "rounding_mode" for k in node.keywords)


@dataclass
class Dtypes:
    """Dtype inference over one module's ``ast``, with the finder's name resolution.

    ``torch_name(node, scope)``: the canonical torch name a dotted expression refers to, or None;
    ``loss(node, scope)``: the call computes a torch loss (a loss module, ``F.cross_entropy``,
    ``super().forward`` in a loss subclass), whose result is floating.
    """

    torch_name: Callable[[ast.expr, Scope], str | None]
    loss: Callable[[ast.Call, Scope], bool]

    def __post_init__(self) -> None:
        # per scope (held, so that its id is not reused by a later scope): name -> dtype fact,
        # and name -> the values of the assignments that bind it alone (`name = value`)
        self._names: dict[int, tuple[Scope, dict[str, str | None], dict[str, list[ast.expr]]]] = {}

    def scope_facts(self, scope: Scope) -> dict[str, str | None]:
        """The dtype fact of every name ``scope`` binds, worked out now in a fixed order.

        A fact is memoised when first asked, and a name defined from itself (or asked
        deep in an expression) depends on what was asked before; asking in one order
        up front makes the module's facts the same whichever statement asks first.
        """
        return {name: self._name(name, scope, 0) for name in sorted(scope.binds) if name not in scope.torch}

    def of(self, node: ast.expr, scope: Scope, depth: int = 0) -> str | None:
        """The dtype fact for ``node``'s value, if it is a tensor whose dtype the code tells."""
        if depth > 12:
            return None
        t = type(node)
        if t is ast.Name:
            return self._name(node.id, scope, depth)  # type: ignore[attr-defined]
        if t is ast.Call:
            return self._call(node, scope, depth)  # type: ignore[arg-type]
        if t is ast.Subscript:
            return self.of(node.value, scope, depth + 1)  # type: ignore[attr-defined]
        if t is ast.Attribute and node.attr in ("T", "mT", "data"):  # type: ignore[attr-defined]
            return self.of(node.value, scope, depth + 1)  # type: ignore[attr-defined]
        if t is ast.UnaryOp and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):  # type: ignore[attr-defined]
            return self.of(node.operand, scope, depth + 1)  # type: ignore[attr-defined]
        if t is ast.Compare:
            return "bool" if self._tensor_compare(node, scope, depth) else None  # type: ignore[arg-type]
        if t is ast.BinOp:
            return self._binop(node, scope, depth)  # type: ignore[arg-type]
        return None

    def _tensor_compare(self, node: ast.Compare, scope: Scope, depth: int) -> bool:
        return any(self.of(o, scope, depth + 1) is not None for o in (node.left, *node.comparators))

    def _binop(self, node: ast.BinOp, scope: Scope, depth: int) -> str | None:
        """torch's result: a floating operand wins (its dtype against a scalar or an integer tensor,
        some floating dtype against anything else); integers stay integers except in true division
        or against a float scalar."""
        if not isinstance(node.op, (*PROMOTING_OPS, ast.MatMult)):
            return None
        left, right = self.of(node.left, scope, depth + 1), self.of(node.right, scope, depth + 1)
        div = isinstance(node.op, ast.Div)
        if left is not None and left == right:
            return DEFAULT if div and is_integer(left) else left
        if is_float(left) or is_float(right):
            known, other, scalar = (left, right, node.right) if is_float(left) else (right, left, node.left)
            return known if is_integer(other) or _number(scalar) is not None else FLOATING
        known, other_node = (left, node.right) if left is not None else (right, node.left)
        number = _number(other_node)
        if known is None or number is None:
            return None
        if div or number == "float":
            return DEFAULT  # an int tensor meeting a float scalar, or true division
        return known

    def _name(self, name: str, scope: Scope, depth: int) -> str | None:
        s: Scope | None = scope
        while s is not None and name not in s.binds and name not in s.torch:
            s = s.parent
        if s is None or name in s.torch:
            return None
        entry = self._names.get(id(s))
        if entry is None or entry[0] is not s:
            assigned: dict[str, list[ast.expr]] = {}
            for names, value in s.assigns:
                if len(names) == 1:
                    assigned.setdefault(names[0], []).append(value)
            entry = self._names[id(s)] = (s, {}, assigned)
        known = entry[1]
        if name in known:
            return known[name]
        known[name] = None  # a name defined from itself stays unknown
        values = entry[2].get(name, [])
        found: str | None = None
        # `x += y` keeps a tensor's dtype (torch computes in place, and raises rather than change it)
        if values and len(values) == s.binds.get(name, 0) - s.augmented.get(name, 0):
            facts = {self.of(v, s, depth + 1) for v in values}
            found = facts.pop() if len(facts) == 1 else None
        known[name] = found
        return found

    def _dtype_argument(self, node: ast.expr, scope: Scope) -> str | None:
        api = self.torch_name(node, scope) if isinstance(node, (ast.Attribute, ast.Name)) else None
        if api is None or not api.startswith("torch."):
            return None
        return TORCH_DTYPES.get(api.rsplit(".", 1)[-1]) if api.count(".") == 1 else None

    def _call(self, node: ast.Call, scope: Scope, depth: int) -> str | None:
        func = node.func
        if self.loss(node, scope):
            return LOSS
        dtype_kw = next((k.value for k in node.keywords if k.arg == "dtype"), None)
        api = self.torch_name(func, scope) if isinstance(func, (ast.Attribute, ast.Name)) else None
        if api is not None:
            if dtype_kw is not None:
                return self._dtype_argument(dtype_kw, scope)
            module, _, name = api.rpartition(".")
            if module not in ("torch", "torch.nn.functional"):
                return None
            if name in _DEFAULT_FACTORIES:
                return DEFAULT
            if name in _FIXED_FACTORIES:
                return _FIXED_FACTORIES[name]
            if name in _LITERAL_DATA and node.args:
                return _literal_kind(node.args[0])
            if name in _RANGES and node.args:
                kinds = {_number(a) for a in node.args}
                return DEFAULT if "float" in kinds else "int64" if kinds == {"int"} else None
            if name == "full" and len(node.args) >= 2:
                kind = _number(node.args[1])
                return DEFAULT if kind == "float" else "int64" if kind == "int" else None
            if name in _FLOATING_RESULTS and node.args and (name != "div" or not _rounds(node)):
                return _floating(self.of(node.args[0], scope, depth + 1))
            if name in _LIKE and node.args:
                return self.of(node.args[0], scope, depth + 1)
            if name in _SAME_FUNCTIONS and node.args:
                first = node.args[0]
                tensors = first.elts if isinstance(first, (ast.List, ast.Tuple)) and name in (
                    "cat", "concat", "stack") else [a for a in node.args if _number(a) is None]  # fmt: skip
                if name in ("matmul", "mm", "bmm"):
                    tensors = node.args[:2]
                facts = {self.of(a, scope, depth + 1) for a in tensors}
                return facts.pop() if len(facts) == 1 else None
            return None
        if isinstance(func, ast.Attribute):
            method = func.attr
            if method in _CAST_METHODS and not node.args and not node.keywords:
                return _CAST_METHODS[method]  # tensor-only spellings: numpy arrays have no `a.long()`
            if method in ("to", "type"):
                target = node.args[0] if node.args else dtype_kw
                dtype = self._dtype_argument(target, scope) if target is not None else None
                if dtype is not None and self.of(func.value, scope, depth + 1) is not None:
                    return dtype
                return None
            if method in _SAME_METHODS:
                return self.of(func.value, scope, depth + 1)
            if method in _FLOATING_RESULTS and (method != "div" or not _rounds(node)):
                return _floating(self.of(func.value, scope, depth + 1))
        return None
