"""Transforms for top-level torch functions."""

from __future__ import annotations

import libcst as cst

from paddleport.rewrite.arguments import Unconvertible, code_of
from paddleport.rewrite.transforms import TransformInput, transform

_EMPTY = cst.SimpleWhitespace("")
_EQUAL = cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _call(node: cst.BaseExpression) -> cst.Call:
    assert isinstance(node, cst.Call)
    return node


def _keyword(arg: cst.Arg, name: str) -> cst.Arg:
    return arg.with_changes(keyword=cst.Name(name), equal=_EQUAL)


def _literal(node: cst.BaseExpression | None) -> str:
    return "" if node is None else "".join(code_of(node).split())


@transform
def wrap_int(t: TransformInput) -> cst.BaseExpression:
    """Paddle returns a 0-D tensor where torch returns a Python int (``torch.numel``)."""
    return cst.Call(func=cst.Name("int"), args=[cst.Arg(t.mapped)])


@transform
def wrap_bool(t: TransformInput) -> cst.BaseExpression:
    """Paddle returns a 0-D bool tensor where torch returns a Python bool (``torch.equal``)."""
    return cst.Call(func=cst.Name("bool"), args=[cst.Arg(t.mapped)])


def _int_literal(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, cst.Integer)


@transform
def full_fill_dtype(t: TransformInput) -> cst.BaseExpression:
    """torch.full infers int64/bool from an int/bool fill value; paddle.full makes floats."""
    mapped = _call(t.mapped)
    if t.bound.value("dtype") is not None:
        return mapped
    fill = t.bound.value("fill_value")
    if _int_literal(fill):
        dtype = "paddle.int64"
    elif _literal(fill) in ("True", "False"):
        dtype = "paddle.bool"
    else:
        return mapped
    extra = cst.Arg(keyword=cst.Name("dtype"), value=cst.parse_expression(dtype), equal=_EQUAL)
    args = list(mapped.args)
    if args:
        args[-1] = args[-1].with_changes(comma=_COMMA)
    return mapped.with_changes(args=[*args, extra])


@transform
def negate_requires_grad(t: TransformInput) -> cst.BaseExpression:
    """``requires_grad=flag`` becomes ``stop_gradient=not flag`` (the rule renames it)."""
    mapped = _call(t.mapped)
    args: list[cst.Arg] = []
    for arg in mapped.args:
        if arg.keyword is not None and arg.keyword.value == "stop_gradient":
            text = _literal(arg.value)
            if text in ("True", "False"):
                value: cst.BaseExpression = cst.Name("False" if text == "True" else "True")
            else:
                value = cst.parse_expression(f"not ({code_of(arg.value)})")
            arg = arg.with_changes(value=value)
        args.append(arg)
    return mapped.with_changes(args=args)


@transform
def randint_bounds(t: TransformInput) -> cst.BaseExpression:
    """``torch.randint(high, size)`` → ``paddle.randint(0, high, size)``.

    With two positional arguments and no ``size``, torch reads them as (high, size);
    Paddle would read them as (low, high).
    """
    mapped = _call(t.mapped)
    low, high = t.bound.by_name.get("low"), t.bound.by_name.get("high")
    two_positional = (
        t.bound.value("size") is None
        and low is not None and low.keyword is None
        and high is not None and high.keyword is None
    )  # fmt: skip
    if not two_positional or low is None or high is None:
        return mapped
    rest = [a for a in mapped.args if a.value is not low.value and a.value is not high.value]
    zero = cst.Arg(cst.Integer("0"), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    new_high = low.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    new_size = high.with_changes(comma=cst.MaybeSentinel.DEFAULT)
    if rest:
        new_size = new_size.with_changes(comma=_COMMA)
    return mapped.with_changes(args=[zero, new_high, new_size, *rest])


def _correction_as_bool(t: TransformInput, paddle_name: str) -> cst.BaseExpression:
    mapped = _call(t.mapped)
    args: list[cst.Arg] = []
    for arg in mapped.args:
        if arg.keyword is not None and arg.keyword.value == "correction":
            text = _literal(arg.value)
            if text not in ("0", "1", "0.0", "1.0", "True", "False"):
                raise Unconvertible(
                    f"correction={code_of(arg.value)}: Paddle only has {paddle_name}=True/False "
                    "(correction 1/0); scale the result by hand"
                )
            value = "True" if text in ("1", "1.0", "True") else "False"
            arg = arg.with_changes(keyword=cst.Name(paddle_name), value=cst.Name(value))
        args.append(arg)
    return mapped.with_changes(args=args)


@transform
def correction_to_unbiased(t: TransformInput) -> cst.BaseExpression:
    """``correction=0/1`` → ``unbiased=False/True`` (paddle.std has no ``correction``)."""
    return _correction_as_bool(t, "unbiased")


@transform
def correction_to_ddof(t: TransformInput) -> cst.BaseExpression:
    """``correction=0/1`` → ``ddof=False/True`` (paddle.linalg.cov)."""
    return _correction_as_bool(t, "ddof")


@transform
def result_in_input_dtype(t: TransformInput) -> cst.BaseExpression:
    """``torch.histc`` returns the input's dtype; paddle.histogram returns int64 counts.

    The input expression is read a second time for its dtype, so it must not draw
    random numbers or change anything in place.
    """
    source = t.bound.value("input")
    if source is None:
        raise Unconvertible("pass the input tensor")
    text = code_of(source)
    if "rand" in text or any(
        isinstance(n, cst.Attribute) and n.attr.value.endswith("_") for n in _walk(source)
    ):
        raise Unconvertible("assign the input to a variable first (its dtype is read twice)")
    return cst.parse_expression(f"{code_of(t.mapped)}.astype({_operand(source)}.dtype)")


def _walk(node: cst.CSTNode) -> list[cst.CSTNode]:
    out = [node]
    for child in node.children:
        out.extend(_walk(child))
    return out


@transform
def first_argument_as_receiver(t: TransformInput) -> cst.BaseExpression:
    """``torch.exp_(x)`` → ``x.exp_()``: Paddle has the operation only as a Tensor method."""
    mapped = _call(t.mapped)
    if not mapped.args or mapped.args[0].keyword is not None or mapped.args[0].star:
        raise Unconvertible("pass the tensor as the first positional argument")
    assert t.rule.paddle is not None
    receiver = mapped.args[0].value
    if not isinstance(receiver, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)):
        receiver = receiver.with_changes(
            lpar=[cst.LeftParen()], rpar=[cst.RightParen()]
        )
    rest = list(mapped.args[1:])
    if rest:
        rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    method = cst.Attribute(value=receiver, attr=cst.Name(t.rule.paddle.rsplit(".", 1)[-1]))
    return cst.Call(func=method, args=rest)


_OPERATORS = {
    "torch.add": "+", "torch.sub": "-", "torch.mul": "*", "torch.div": "/",
    "torch.true_divide": "/", "torch.eq": "==", "torch.ne": "!=", "torch.gt": ">",
    "torch.ge": ">=", "torch.lt": "<", "torch.le": "<=",
}  # fmt: skip
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float)


def _number(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float))


def _operand(node: cst.BaseExpression) -> str:
    text = code_of(node).strip()
    simple = isinstance(node, _ATOMS) or bool(node.lpar) or _number(node)
    return text if simple else f"({text})"


@transform
def number_operand_as_operator(t: TransformInput) -> cst.BaseExpression:
    """``torch.add(x, 1.5)`` → ``(x + 1.5)``: Paddle's functions reject Python numbers.

    ``paddle.add``, ``paddle.greater_than`` and friends take only tensors; the operator
    form accepts numbers with the same result dtype as torch. Calls with two tensors
    keep the function.
    """
    a, b = t.bound.value("input"), t.bound.value("other")
    if t.rule.api == "torch.pow":  # paddle.pow takes a number exponent, not a number base
        b = t.bound.value("exponent")
        if a is None or b is None:
            return t.mapped
        # the operator serves every operand pair, so a base that is a number only at run time
        # (`torch.pow(width_mult, exps)`, a float parameter) converts too
        return cst.parse_expression(f"({_operand(a)} ** {_operand(b)})")
    if a is None or b is None or not (_number(a) or _number(b)):
        return t.mapped
    if t.rule.api not in _OPERATORS:  # bitwise ops: Paddle's operators reject numbers too
        return _number_as_full_like(t, a, b)
    op = _OPERATORS[t.rule.api]
    rounding = t.bound.value("rounding_mode")
    if rounding is not None and _literal(rounding) != "None":
        if _literal(rounding) in ("'floor'", '"floor"'):
            op = "//"
        else:
            raise Unconvertible(
                "rounding_mode='trunc' with a Python number: pass the divisor as a tensor "
                "(paddle.full_like(x, value))"
            )
    right = _operand(b)
    alpha = t.bound.value("alpha")
    if alpha is not None:
        right = f"{_operand(alpha)} * {right}"
    return cst.parse_expression(f"({_operand(a)} {op} {right})")


def _number_as_full_like(
    t: TransformInput, a: cst.BaseExpression, b: cst.BaseExpression
) -> cst.BaseExpression:
    """The number becomes ``paddle.full_like(tensor, number)``: the tensor's dtype, as in torch."""
    if _number(a) and _number(b):
        raise Unconvertible("both operands are Python numbers: compute it in Python")
    number, tensor = (a, b) if _number(a) else (b, a)
    full = cst.parse_expression(f"paddle.full_like({code_of(tensor)}, {code_of(number)})")
    mapped = _call(t.mapped)
    args = [arg.with_changes(value=full) if arg.value is number else arg for arg in mapped.args]
    return mapped.with_changes(args=args)


@transform
def scatter_value(t: TransformInput) -> cst.BaseExpression:
    """torch.scatter → paddle.put_along_axis: names after the tensor, ``value=`` → ``values=``.

    Paddle orders (arr, indices, values, axis) where torch has (input, dim, index, src),
    and torch's scalar ``value`` is the same ``values`` argument in Paddle (the rule passes
    the arguments after the tensor by keyword: ``keywords_after = 1``).
    """
    mapped = _call(t.mapped)
    args = [
        a.with_changes(keyword=cst.Name("values"))
        if a.keyword is not None and a.keyword.value == "value" else a
        for a in mapped.args
    ]  # fmt: skip
    return mapped.with_changes(args=args)


@transform
def addc_expression(t: TransformInput) -> cst.BaseExpression:
    """``torch.addcmul(x, a, b, value=v)`` → ``(x + v * a * b)`` (addcdiv: ``/``).

    Paddle has no fused addcmul/addcdiv; the operator form computes the same thing.
    """
    names = ("input", "tensor1", "tensor2")
    parts = [t.bound.value(n) for n in names]
    if any(p is None for p in parts):
        raise Unconvertible("pass input, tensor1 and tensor2")
    base, left, right = (_operand(p) for p in parts if p is not None)
    op = "/" if t.rule.api.endswith("addcdiv") else "*"
    value = t.bound.value("value")
    scale = "" if value is None else f"{_operand(value)} * "
    return cst.parse_expression(f"({base} + {scale}{left} {op} {right})")


@transform
def einsum_operands(t: TransformInput) -> cst.BaseExpression:
    """``torch.einsum(eq, [a, b])`` → ``paddle.einsum(eq, a, b)``: Paddle takes operands only spread.

    A single operand that is a variable holding a list cannot be told from one tensor
    here; Paddle then raises (a list has no shape), so the gap is loud, not silent.
    """
    mapped = _call(t.mapped)
    operands = t.bound.var_positional
    if len(operands) != 1 or operands[0].star or not isinstance(operands[0].value, (cst.List, cst.Tuple)):
        return mapped
    elements = operands[0].value.elements
    spread = [
        cst.Arg(value=e.value, star="*" if isinstance(e, cst.StarredElement) else "",
                comma=_COMMA if i < len(elements) - 1 else cst.MaybeSentinel.DEFAULT)
        for i, e in enumerate(elements)
    ]  # fmt: skip
    first = mapped.args[0].with_changes(comma=_COMMA)
    return mapped.with_changes(args=[first, *spread])


@transform
def requires_grad_after(t: TransformInput) -> cst.BaseExpression:
    """``torch.normal(..., requires_grad=flag)`` → ``paddle.normal(...).requires_grad_(flag)``:
    Paddle's factory has no such argument (the rule drops it); the tensor is marked afterwards."""
    flag = t.bound.value("requires_grad")
    if flag is None or _literal(flag) == "False":
        return t.mapped
    arg = "" if _literal(flag) == "True" else code_of(flag)
    return cst.parse_expression(f"{code_of(t.mapped)}.requires_grad_({arg})")
