"""Transforms for torch.Tensor methods and attributes.

These see one method call (``x.to(torch.float64)``) after any nested use has
been rewritten, so a dtype argument may already read ``paddle.float64``.
"""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from paddleport.rewrite.arguments import AlreadyPaddle, Unconvertible, code_of, join_arguments
from paddleport.rewrite.helpers import VISION
from paddleport.rewrite.transforms import TransformInput, _receiver, is_name_chain, transform

# dtype spellings that may appear as ``torch.X`` / ``paddle.X`` or as a string
_DTYPES = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int8": "int8",
    "uint8": "uint8", "int16": "int16", "short": "int16", "int32": "int32", "int": "int32",
    "int64": "int64", "long": "int64", "bool": "bool", "complex64": "complex64",
    "cfloat": "complex64", "complex128": "complex128", "cdouble": "complex128",
}  # fmt: skip
# legacy tensor type names accepted by ``x.type(...)``
_TENSOR_TYPES = {
    "FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16",
    "BFloat16Tensor": "bfloat16", "ByteTensor": "uint8", "CharTensor": "int8",
    "ShortTensor": "int16", "IntTensor": "int32", "LongTensor": "int64", "BoolTensor": "bool",
}  # fmt: skip
# what each casting method casts to
_CASTS = {
    "float": "float32", "double": "float64", "half": "float16", "bfloat16": "bfloat16",
    "long": "int64", "int": "int32", "short": "int16", "char": "int8", "byte": "uint8",
    "bool": "bool", "cfloat": "complex64", "cdouble": "complex128",
}  # fmt: skip


_DEFAULT_FORMATS = ("contiguous_format", "preserve_format")
_TIGHT_EQUAL = cst.AssignEqual(
    whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
)


def _is_dtype(node: cst.BaseExpression) -> bool:
    """``torch.float16``, ``paddle.float16``, ``"float16"`` or ``y.dtype``: surely a dtype."""
    if isinstance(node, cst.Attribute) and node.attr.value == "dtype":
        return True
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return node.value.value in ("torch", "paddle") and node.attr.value in _DTYPES
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return isinstance(value, str) and value in _DTYPES
    return False


def _method(receiver: cst.BaseExpression, name: str, *args: cst.Arg) -> cst.Call:
    return cst.Call(func=cst.Attribute(value=receiver, attr=cst.Name(name)), args=list(args))


def _plain(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """Arguments without their trailing commas, so they can be re-joined."""
    return [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]


@transform
def view_shape_or_dtype(t: TransformInput) -> cst.BaseExpression:
    """``x.view(dtype)`` reinterprets bits: keep Paddle's ``view``; shapes become ``reshape``."""
    assert isinstance(t.original, cst.Call)
    args = t.original.args
    if len(args) == 1 and args[0].keyword is None and not args[0].star and _is_dtype(args[0].value):
        return _method(_receiver(t.original), "view", *_plain(args))
    return t.mapped


@transform
def to_astype(t: TransformInput) -> cst.BaseExpression:
    """``x.to(dtype)`` → ``x.astype(dtype)``; device and tensor forms stay ``to``."""
    assert isinstance(t.original, cst.Call) and isinstance(t.mapped, cst.Call)

    def is_format(a: cst.Arg) -> bool:
        return a.keyword is not None and a.keyword.value == "memory_format"

    for a in t.original.args:
        default = isinstance(a.value, cst.Attribute) and a.value.attr.value in _DEFAULT_FORMATS
        if is_format(a) and not default:
            raise Unconvertible("Paddle has no channels-last strides; drop `memory_format=`")
    # the default formats mean "as usual" for Paddle's always-contiguous tensors: drop them
    args = [a for a in t.original.args if not is_format(a)]
    kept = [a for a in t.mapped.args if not is_format(a)]
    mapped = t.mapped.with_changes(args=join_arguments(list(t.mapped.args), kept))
    if len(args) == 1 and not args[0].star:
        a = args[0]
        by_keyword = a.keyword is not None and a.keyword.value == "dtype"
        if by_keyword or (a.keyword is None and _is_dtype(a.value)):
            return _method(_receiver(t.original), "astype", cst.Arg(value=a.value))
    return mapped


@transform
def cast_method_to_astype(t: TransformInput) -> cst.BaseExpression:
    """``x.float()`` → ``x.astype('float32')`` (the cast is read from the torch method's name)."""
    name = t.rule.api.rsplit(".", 1)[-1]
    if t.bound.by_name:
        raise Unconvertible(f"`x.{name}(...)` with arguments: Paddle's astype takes only the dtype")
    dtype = cst.SimpleString(repr(_CASTS[name]))
    return _method(_receiver(t.original), "astype", cst.Arg(value=dtype))


@transform
def type_to_astype(t: TransformInput) -> cst.BaseExpression:
    """``x.type(torch.float16)`` / ``x.type('torch.HalfTensor')`` → ``x.astype(...)``.

    With ``*args`` / ``**kwargs`` (d2l's ``astype = lambda x, *args, **kwargs: x.type(*args,
    **kwargs)``) whether it casts or names the type is known only at run time: a helper does both.
    """
    if t.bound.passthrough_star or t.bound.var_positional or t.bound.extra_keywords:
        assert isinstance(t.original, cst.Call)
        args = [cst.Arg(value=_receiver(t.original)), *t.original.args]
        return cst.Call(func=cst.parse_expression(f"{VISION}.tensor_type"),
                        args=join_arguments(list(t.original.args), args))  # fmt: skip
    value = t.bound.value("dtype")
    if value is None:
        raise Unconvertible("`x.type()` without a dtype returns a type name such as "
                            "'torch.FloatTensor'; use `x.dtype` instead")  # fmt: skip
    if t.bound.value("non_blocking") is not None:
        raise Unconvertible("Paddle's astype has no `non_blocking`; drop it")
    if isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
        name = value.evaluated_value.rsplit(".", 1)[-1]
        if name in _TENSOR_TYPES:
            value = cst.SimpleString(repr(_TENSOR_TYPES[name]))
    elif isinstance(value, cst.Attribute) and value.attr.value in _TENSOR_TYPES:
        value = cst.SimpleString(repr(_TENSOR_TYPES[value.attr.value]))
    return _method(_receiver(t.original), "astype", cst.Arg(value=value))


@transform
def call_to_attribute(t: TransformInput) -> cst.BaseExpression:
    """``x.numel()`` → ``x.size``: Paddle has the value as an attribute, not a method."""
    assert t.rule.paddle is not None
    if t.bound.by_name or t.bound.var_positional:
        raise Unconvertible("no arguments expected")
    name = t.rule.paddle.rsplit(".", 1)[-1]
    return cst.Attribute(value=_receiver(t.original), attr=cst.Name(name))


@transform
def drop_call(t: TransformInput) -> cst.BaseExpression:
    """``x.cuda()`` → ``x``: Paddle places new tensors on its current device already."""
    assert isinstance(t.original, cst.Call)
    if t.original.args:
        raise Unconvertible("a device or stream argument: choose the device with paddle.set_device")
    return _receiver(t.original)


@transform
def compat_reduction(t: TransformInput) -> cst.BaseExpression:
    """``x.max(dim)`` returns (values, indices) in torch: ``paddle.compat.max(x, dim)`` does too.

    Without arguments ``x.max()`` is already Paddle.
    """
    assert isinstance(t.original, cst.Call)
    if not t.original.args:
        return t.mapped
    name = t.rule.api.rsplit(".", 1)[-1]
    receiver = _receiver(t.original)
    args = [cst.Arg(value=receiver), *t.original.args]
    func = cst.parse_expression(f"paddle.compat.{name}")
    return cst.Call(func=func, args=join_arguments(list(t.original.args), args))


@transform
def new_tensor_to_tensor(t: TransformInput) -> cst.BaseExpression:
    """``x.new_tensor(data)`` → ``paddle.to_tensor(data, dtype=x.dtype)``: torch keeps x's dtype."""
    data = t.bound.value("data")
    if data is None:
        raise Unconvertible("no data argument")
    for unsupported in ("device", "requires_grad", "layout", "pin_memory"):
        if t.bound.value(unsupported) is not None:
            raise Unconvertible(f"`{unsupported}=`: create the tensor, then set it by hand")
    dtype = t.bound.value("dtype")
    receiver = _receiver(t.original)
    if dtype is None and not isinstance(receiver, (cst.Name, cst.Attribute)):
        raise Unconvertible("name the receiver first: its dtype is needed twice")
    dtype_code = code_of(dtype) if dtype is not None else f"{code_of(receiver)}.dtype"
    return cst.parse_expression(f"paddle.to_tensor({code_of(data)}, dtype={dtype_code})")


@transform
def compat_function(t: TransformInput) -> cst.BaseExpression:
    """``x.split(2)`` → ``paddle.compat.split(x, 2)``: the compat variant keeps torch's meaning."""
    assert isinstance(t.mapped, cst.Call) and t.rule.paddle is not None
    name = t.rule.paddle.rsplit(".", 1)[-1]  # unsafe_split → paddle.compat.split
    args = [cst.Arg(value=_receiver(t.original)), *t.mapped.args]
    return cst.Call(func=cst.parse_expression(f"paddle.compat.{name}"),
                    args=join_arguments(list(t.mapped.args), args))  # fmt: skip


@transform
def where_method(t: TransformInput) -> cst.BaseExpression:
    """``x.where(c, y)`` → ``paddle.where(c, x, y)``: Paddle's ``x.where`` takes x as the mask."""
    cond, other = t.bound.value("condition"), t.bound.value("other")
    if cond is None or other is None:
        raise Unconvertible("needs both `condition` and `other`")
    receiver = code_of(_receiver(t.original))
    return cst.parse_expression(f"paddle.where({code_of(cond)}, {receiver}, {code_of(other)})")


@transform
def view_as_reshape(t: TransformInput) -> cst.BaseExpression:
    """``x.view_as(y)`` → ``x.reshape(y.shape)``."""
    other = t.bound.value("other")
    if other is None:
        raise Unconvertible("no `other` argument")
    shape = cst.Attribute(value=other, attr=cst.Name("shape"))
    return _method(_receiver(t.original), "reshape", cst.Arg(value=shape))


@transform
def equal_to_bool(t: TransformInput) -> cst.BaseExpression:
    """``x.equal(y)`` is one bool in torch; Paddle's ``equal`` compares element-wise."""
    assert isinstance(t.mapped, cst.Call)
    other = t.bound.value("other")
    if other is None:
        raise Unconvertible("no `other` argument")
    call = _method(_receiver(t.original), "equal_all", cst.Arg(value=other))
    return cst.Call(func=cst.Name("bool"), args=[cst.Arg(value=call)])


_OPERATORS: dict[str, type[cst.BaseBinaryOp] | type[cst.BaseCompOp]] = {
    "add": cst.Add, "sub": cst.Subtract, "subtract": cst.Subtract, "mul": cst.Multiply,
    "multiply": cst.Multiply, "div": cst.Divide, "divide": cst.Divide, "true_divide": cst.Divide,
    "eq": cst.Equal, "ne": cst.NotEqual, "not_equal": cst.NotEqual, "gt": cst.GreaterThan,
    "greater": cst.GreaterThan, "ge": cst.GreaterThanEqual, "greater_equal": cst.GreaterThanEqual,
    "lt": cst.LessThan, "less": cst.LessThan, "le": cst.LessThanEqual,
    "less_equal": cst.LessThanEqual,
}  # fmt: skip


def _is_number(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _only_other(t: TransformInput) -> cst.BaseExpression | None:
    """The scalar literal when it is the only argument (``x.add(1.5)``), else None."""
    first = t.rule.signature.params[0].name if t.rule.signature else None
    other = t.bound.value(first) if first else None
    if other is None or len(t.bound.by_name) != 1 or not _is_number(other):
        return None
    return other


# operands that need no parentheses on the right of a binary operator
_OPERAND_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.SimpleString, cst.Integer, cst.Float)


@transform
def scalar_operator(t: TransformInput) -> cst.BaseExpression:
    """``x.add(1.5)`` → ``(x + 1.5)``: Paddle's methods want a tensor, operators take numbers. With one
    operand of unknown kind (``x.add(eps)``, eps a float or a tensor) the operator is right for both."""
    first = t.rule.signature.params[0].name if t.rule.signature else None
    other = t.bound.value(first) if first else None
    if other is None or len(t.bound.by_name) != 1:
        return t.mapped
    if not (_is_number(other) or isinstance(other, _OPERAND_ATOMS) or other.lpar):
        other = other.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    name = t.rule.api.rsplit(".", 1)[-1]
    op = _OPERATORS[name]
    left = _receiver(t.original)
    paren = [cst.LeftParen()], [cst.RightParen()]
    if issubclass(op, cst.BaseCompOp):
        return cst.Comparison(left=left, comparisons=[cst.ComparisonTarget(op(), other)],
                              lpar=paren[0], rpar=paren[1])  # fmt: skip
    return cst.BinaryOperation(left=left, operator=op(), right=other, lpar=paren[0], rpar=paren[1])


_SCALE = {"add_": "add", "sub_": "sub", "subtract_": "sub", "mul_": "mul", "multiply_": "mul",
          "div_": "div", "divide_": "div", "true_divide_": "div"}


@transform
def inplace_scalar_scale(t: TransformInput) -> cst.BaseExpression:
    """``x.add_(1.0)`` → ``x.scale_(bias=1.0)``: Paddle's in-place methods want a tensor operand.

    ``scale_`` computes ``scale * x + bias`` in place in x's own dtype; ``mul_``/``div_`` become
    ``scale_(c)``/``scale_(1 / c)`` (the latter can differ from x / c in the last bit).
    """
    other = _only_other(t)
    if other is None:
        return _scale_or_method(t)
    kind = _SCALE[t.rule.api.rsplit(".", 1)[-1]]
    number = code_of(other)
    if kind == "add":
        arg = cst.Arg(keyword=cst.Name("bias"), value=other, equal=_TIGHT_EQUAL)
    elif kind == "sub":
        negated = number[1:] if number.startswith("-") else f"-{number}"
        arg = cst.Arg(keyword=cst.Name("bias"), value=cst.parse_expression(negated), equal=_TIGHT_EQUAL)
    elif kind == "mul":
        arg = cst.Arg(value=other)
    else:
        arg = cst.Arg(value=cst.parse_expression(f"1 / {number}"))
    return _method(_receiver(t.original), "scale_", arg)


def _scale_or_method(t: TransformInput) -> cst.BaseExpression:
    """``x.mul_(std * k)``: a lone operand that may be a number or a tensor, known only at run time.
    Paddle's in-place method takes a tensor, ``scale_`` a number: the converted call picks by type."""
    first = t.rule.signature.params[0].name if t.rule.signature else None
    other = t.bound.value(first) if first else None
    receiver = _receiver(t.original)
    if other is None or len(t.bound.by_name) != 1:
        return t.mapped
    kind = _SCALE[t.rule.api.rsplit(".", 1)[-1]]
    scales = {"add": "scale_(bias=_o)", "sub": "scale_(bias=-_o)", "mul": "scale_(_o)"}
    scale = scales.get(kind, "scale_(1 / _o)")
    assert isinstance(t.mapped, cst.Call) and isinstance(t.mapped.func, cst.Attribute)
    method = t.mapped.func.attr.value  # spelled on paddle.Tensor: converting again changes nothing
    if not is_name_chain(receiver):  # `x.mul_(std).add_(mean)`: the receiver is evaluated once, first
        return cst.parse_expression(f"(lambda _x, _o: paddle.Tensor.{method}(_x, _o) if isinstance(_o, "
                                    f"paddle.Tensor) else _x.{scale})({code_of(receiver)}, {code_of(other)})")
    x = code_of(receiver)
    return cst.parse_expression(f"(lambda _o: paddle.Tensor.{method}({x}, _o) "
                                f"if isinstance(_o, paddle.Tensor) else {x}.{scale})({code_of(other)})")


# torch methods that take a sequence either spread out or by keyword, and that keyword
_SEQUENCE_PARAMS = {"torch.Tensor.flip": "dims", "torch.Tensor.tile": "dims", "torch.Tensor.permute": "dims",
                    "torch.Tensor.reshape": "shape", "torch.Tensor.expand": "size"}
_PADDLE_KEYWORDS = {"axis", "repeat_times", "perm", "shape"}  # a call using these is already Paddle


@transform
def sequence_argument(t: TransformInput) -> cst.BaseExpression:
    """``x.flip(0, 1)`` and ``x.flip(dims=[0, 1])`` → ``x.flip([0, 1])``.

    A signature cannot say "spread out or by keyword" (``(*dims)`` rejects ``dims=``), so the
    rule has none and this reads the call itself.
    """
    assert isinstance(t.original, cst.Call) and isinstance(t.mapped, cst.Call)
    torch_name = _SEQUENCE_PARAMS[t.rule.api]
    args = t.mapped.args
    if len(args) == 1 and args[0].keyword is not None:
        if args[0].keyword.value in _PADDLE_KEYWORDS:
            raise AlreadyPaddle(args[0].keyword.value)
        if args[0].keyword.value != torch_name:
            raise Unconvertible(f"`{args[0].keyword.value}=` is not an argument of {t.rule.api}")
        # positional, so the converted call reads as already Paddle when analysed again
        return t.mapped.with_changes(args=[cst.Arg(value=args[0].value)])
    if any(a.keyword is not None or a.star == "**" for a in args):
        raise Unconvertible(f"pass `{torch_name}` as one sequence")
    if not args:
        return t.mapped
    single = len(args) == 1 and not args[0].star
    if single and not isinstance(args[0].value, (cst.Integer, cst.UnaryOperation)):
        return t.mapped.with_changes(args=_plain(args))  # a list, tuple or variable already
    elements = [cst.StarredElement(value=a.value) if a.star == "*" else cst.Element(value=a.value)
                for a in args]  # fmt: skip
    packed = cst.List(elements=[
        e.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        if i < len(elements) - 1 else e for i, e in enumerate(elements)
    ])  # fmt: skip
    return t.mapped.with_changes(args=[cst.Arg(value=packed)])


def _has_call(node: cst.CSTNode) -> bool:
    """True when evaluating ``node`` twice could do something twice (it calls a function)."""
    if isinstance(node, cst.Call):
        return True
    return any(_has_call(child) for child in node.children)


def _operand(node: cst.BaseExpression) -> str:
    """Source text safe to use as an operand of ``*`` or ``/``."""
    text = code_of(node)
    atomic = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)
    return text if isinstance(node, atomic) else f"({text})"


@transform
def addc_operator(t: TransformInput) -> cst.BaseExpression:
    """``x.addcmul_(a, b, value=v)`` → ``paddle.assign(x + v * a * b, x)``;
    ``x.addcdiv(a, b)`` → ``(x + a / b)``.

    Paddle has no addcmul/addcdiv; the operators compute the same thing.
    """
    name = t.rule.api.rsplit(".", 1)[-1]
    t1, t2, value = (t.bound.value(n) for n in ("tensor1", "tensor2", "value"))
    if t1 is None or t2 is None:
        raise Unconvertible("needs tensor1 and tensor2")
    op = "*" if name.startswith("addcmul") else "/"
    term = f"{_operand(t1)} * {_operand(t2)}" if op == "*" else f"{_operand(t1)} / {_operand(t2)}"
    if value is not None and not (isinstance(value, cst.Integer) and value.value == "1"):
        term = f"{_operand(value)} * {term}"
    node = _receiver(t.original)
    receiver = code_of(node)
    if name.endswith("_"):
        if is_name_chain(node):  # written in place; no in-place method that converting again would touch
            return cst.parse_expression(f"paddle.assign({receiver} + {term}, {receiver})")
        # spelled on paddle.Tensor: `x.add_(...)` would read as torch's add_ to the next conversion
        return cst.parse_expression(f"paddle.Tensor.add_({receiver}, {term})")
    return cst.parse_expression(f"({receiver} + {term})")


# in-place methods Paddle lacks: the out-of-place method, or the comparison operator
_INPLACE_VIA_COPY = {"atan2_": "atan2", "arctan2_": "atan2", "expm1_": "expm1", "erf_": "erf",
                     "sign_": "sign", "sgn_": "sgn", "deg2rad_": "deg2rad", "rad2deg_": "rad2deg",
                     "heaviside_": "heaviside", "nextafter_": "nextafter"}  # fmt: skip
_INPLACE_COMPARISONS = {"eq_": "==", "ne_": "!=", "not_equal_": "!=", "gt_": ">", "greater_": ">",
                        "ge_": ">=", "greater_equal_": ">=", "lt_": "<", "less_": "<",
                        "le_": "<=", "less_equal_": "<="}  # fmt: skip


@transform
def inplace_via_copy(t: TransformInput) -> cst.BaseExpression:
    """``x.sign_()`` → ``x.copy_(x.sign())``; comparisons keep x's dtype as torch does:
    ``x.ge_(y)`` → ``x.copy_((x >= y).astype(x.dtype))``.
    """
    assert isinstance(t.mapped, cst.Call)
    receiver = _receiver(t.original)
    method = t.rule.api.rsplit(".", 1)[-1]
    if _has_call(receiver):  # `a.lerp(b, w).sign_()`: evaluated once, bound by a lambda
        if method in _INPLACE_COMPARISONS:
            raise Unconvertible("the receiver would be evaluated twice: assign it to a name first")
        value = _method(cst.Name("_x"), _INPLACE_VIA_COPY[method], *_plain(t.mapped.args))
        bound = code_of(_method(cst.Name("_x"), "copy_", cst.Arg(value=value)))
        return cst.parse_expression(f"(lambda _x: {bound})({code_of(receiver)})")
    if method in _INPLACE_COMPARISONS:
        other = t.bound.value("other")
        if other is None:
            raise Unconvertible("needs `other`")
        r = code_of(receiver)
        compared = f"({r} {_INPLACE_COMPARISONS[method]} {_operand(other)}).astype({r}.dtype)"
        return cst.parse_expression(f"{r}.copy_({compared})")
    value = _method(receiver, _INPLACE_VIA_COPY[method], *_plain(t.mapped.args))
    return _method(receiver, "copy_", cst.Arg(value=value))


@transform
def index_copy_along_axis(t: TransformInput) -> cst.BaseExpression:
    """``x.index_copy_(d, idx, src)`` → ``x.put_along_axis_(<idx along d, broadcast to src>, src, d)``.

    Paddle has no index_copy; put_along_axis with the 1-D index reshaped to lie along ``d`` and
    broadcast to src's shape writes the same slices (transformers' KV caches use this).
    """
    dim, index, source = (t.bound.value(n) for n in ("dim", "index", "source"))
    if dim is None or index is None or source is None:
        raise Unconvertible("needs dim, index and source")
    if _has_call(source) or _has_call(dim):
        raise Unconvertible("source and dim are used twice: assign them to names first")
    src, d = code_of(source), code_of(dim)
    at = d if isinstance(dim, cst.Integer) else f"({d}) % {src}.ndim"
    shape = f"[-1 if _axis == {at} else 1 for _axis in range({src}.ndim)]"
    method = "put_along_axis_" if t.rule.api.endswith("_") else "put_along_axis"
    receiver = code_of(_receiver(t.original))
    return cst.parse_expression(
        f"{receiver}.{method}({_operand(index)}.reshape({shape}).expand_as({src}), {src}, {d})"
    )


_REDUCTIONS = {"sum": "add", "prod": "mul", "mean": "mean", "amax": "amax", "amin": "amin"}


@transform
def scatter_reduce_along_axis(t: TransformInput) -> cst.BaseExpression:
    """``x.scatter_reduce_(d, idx, src, 'sum')`` → ``x.put_along_axis_(idx, src, d, reduce='add', ...)``.

    ``broadcast=False``: torch uses the index's own shape, Paddle would broadcast it by default.
    """
    dim, index, src, reduce = (t.bound.value(n) for n in ("dim", "index", "src", "reduce"))
    if dim is None or index is None or src is None or reduce is None:
        raise Unconvertible("needs dim, index, src and reduce")
    if not (isinstance(reduce, cst.SimpleString) and reduce.evaluated_value in _REDUCTIONS):
        raise Unconvertible("reduce must be written out ('sum', 'prod', 'mean', 'amax', 'amin')")
    paddle_reduce = _REDUCTIONS[str(reduce.evaluated_value)]
    include = t.bound.value("include_self")
    extra = f", include_self={code_of(include)}" if include is not None else ""
    method = "put_along_axis_" if t.rule.api.endswith("_") else "put_along_axis"
    return cst.parse_expression(
        f"{code_of(_receiver(t.original))}.{method}({code_of(index)}, {code_of(src)}, {code_of(dim)}, "
        f"reduce={paddle_reduce!r}{extra}, broadcast=False)"
    )


@transform
def method_to_function(t: TransformInput) -> cst.BaseExpression:
    """``x.log_softmax(1)`` → ``paddle.nn.functional.log_softmax(x, axis=1)``: Paddle has it only as a
    function (the rule's ``paddle`` names it); the receiver becomes the first argument.
    """
    assert isinstance(t.mapped, cst.Call) and t.rule.paddle is not None
    args = [cst.Arg(value=_receiver(t.original)), *t.mapped.args]
    return cst.Call(func=cst.parse_expression(t.rule.paddle),
                    args=join_arguments(list(t.mapped.args), args))  # fmt: skip


@transform
def grad_write(t: TransformInput) -> cst.BaseExpression:
    """``p.grad[:] *= k`` → ``p.grad.detach()[:] *= k``: Paddle's gradients do not stop gradient, so
    it refuses in-place writes into one; its detached view shares the memory, as torch's grad is."""
    node = t.original
    if isinstance(node, cst.Subscript):
        detached = cst.Call(func=cst.Attribute(value=node.value, attr=cst.Name("detach")))
        return node.with_changes(value=detached)
    return node
