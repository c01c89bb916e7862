"""Transforms for torch.nn.functional and torch.nn.init."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from paddleport.rewrite.arguments import Unconvertible, code_of
from paddleport.rewrite.transforms import TransformInput, transform
from paddleport.rewrite.transforms.nn_layers import (
    avg_pool,
    is_literal,
    keyword_after,
    max_pool,
    set_keyword,
    with_args,
)


@transform
def avg_pool_functional(t: TransformInput) -> cst.BaseExpression:
    """F.avg_pool*d: like the layers, one position later (the input comes first)."""
    return avg_pool(t, 4)


@transform
def max_pool_functional(t: TransformInput) -> cst.BaseExpression:
    """F.max_pool*d: like the layers, one position later (the input comes first)."""
    return max_pool(t, 4)


@transform
def batch_norm_functional(t: TransformInput) -> cst.BaseExpression:
    """F.batch_norm / F.instance_norm: name the flags, and momentum becomes 1 - m."""
    from paddleport.rewrite.transforms import batchnorm_momentum

    assert isinstance(t.mapped, cst.Call)
    keyworded = with_args(t, keyword_after(t, 5))
    call = batchnorm_momentum(replace(t, mapped=keyworded))
    fills: dict[int, str] = {}  # torch normalises with the batch's statistics and keeps none; Paddle
    for param, fill in (("running_mean", "zeros"), ("running_var", "ones")):  # needs buffers to update
        value = t.bound.value(param) if t.rule.api.endswith(".batch_norm") else None
        if value is not None and is_literal(value, "None"):
            fills[id(value)] = fill
    x = t.bound.value("input")
    if not fills or x is None or not isinstance(call, cst.Call):
        return call
    # fresh buffers of the input's channel count, thrown away (the input bound once by a lambda)
    name = code_of(x) if isinstance(x, cst.Name) else "_x"
    args = []
    for a in call.args:
        if id(a.value) in fills:
            a = a.with_changes(value=cst.parse_expression(
                f"paddle.{fills[id(a.value)]}([{name}.shape[1]], dtype={name}.dtype)"))
        elif a.value is x and name == "_x":
            a = a.with_changes(value=cst.Name("_x"))
        args.append(a)
    call = call.with_changes(args=args)
    if name != "_x":
        return call
    return cst.parse_expression(f"(lambda _x: {code_of(call)})({code_of(x)})")


@transform
def first_output(t: TransformInput) -> cst.BaseExpression:
    """Paddle returns (result, extra) where torch returns the result: take element 0."""
    assert isinstance(t.mapped, cst.Call)
    return cst.Subscript(value=t.mapped, slice=[cst.SubscriptElement(cst.Index(cst.Integer("0")))])


def _int_size(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Integer)


@transform
def interpolate_size(t: TransformInput) -> cst.BaseExpression:
    """F.interpolate: Paddle rejects an int ``size``; repeat it once per spatial axis."""
    assert isinstance(t.mapped, cst.Call)
    args = keyword_after(t, 5)
    size = t.bound.value("size")
    if _int_size(size):
        assert size is not None
        source = t.bound.value("input")
        if not isinstance(source, (cst.Name, cst.Attribute)):
            raise Unconvertible(
                "Paddle needs `size` as a list with one entry per spatial axis; write it as a list"
            )
        rank = cst.parse_expression(f"[{code_of(size)}] * ({code_of(source)}.ndim - 2)")
        args = [a.with_changes(value=rank) if a.value is size else a for a in args]
    return with_args(t, args)


@transform
def conv_functional(t: TransformInput) -> cst.BaseExpression:
    """F.conv*d: Paddle's padding='same' is wrong with dilation > 1 (verified in 3.3.1)."""
    assert isinstance(t.mapped, cst.Call)
    if same_with_dilation(t):
        raise Unconvertible(
            "Paddle computes padding='same' wrongly when dilation > 1; pass the explicit padding "
            "dilation * (kernel_size - 1) // 2 (odd kernels)"
        )
    return t.mapped


def same_with_dilation(t: TransformInput) -> bool:
    padding, dilation = t.bound.value("padding"), t.bound.value("dilation")
    return (
        padding is not None
        and is_literal(padding, "'same'", '"same"')
        and dilation is not None
        and not is_literal(dilation, "1", "(1,1)", "(1,1,1)", "(1,)", "[1,1]")
    )


@transform
def astype_int64(t: TransformInput) -> cst.BaseExpression:
    """Paddle returns float32 where torch returns int64 (one_hot): cast back."""
    assert isinstance(t.mapped, cst.Call)
    return cst.parse_expression(f"{code_of(t.mapped)}.astype('int64')")


@transform
def bilinear_bias_row(t: TransformInput) -> cst.BaseExpression:
    """F.bilinear: Paddle wants the bias as a [1, out] row, torch takes [out]."""
    assert isinstance(t.mapped, cst.Call)
    bias = t.bound.value("bias")
    if bias is None or is_literal(bias, "None"):
        return t.mapped
    text = code_of(bias)
    wrapped = text if isinstance(bias, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) else f"({text})"
    row = cst.parse_expression(f"{wrapped}.reshape([1, -1])")
    args = [a.with_changes(value=row) if a.value is bias else a for a in t.mapped.args]
    return with_args(t, args)


def _refuse_smoothing_mix(t: TransformInput) -> None:
    smoothing = t.bound.value("label_smoothing")
    if smoothing is None or is_literal(smoothing, "0", "0.0", "0."):
        return
    mixed = [n for n in ("weight", "ignore_index") if t.bound.value(n) is not None]
    if mixed:
        raise Unconvertible(
            f"Paddle combines label_smoothing with {' and '.join(mixed)} differently from torch "
            "(verified in 3.3.1): smooth the targets by hand or drop one of them"
        )


@transform
def cross_entropy_layer(t: TransformInput) -> cst.BaseExpression:
    """CrossEntropyLoss: name everything after weight; refuse label smoothing mixed with
    class weights or ignore_index, which Paddle computes differently."""
    assert isinstance(t.mapped, cst.Call)
    _refuse_smoothing_mix(t)
    return with_args(t, keyword_after(t, 1))


def _pure_chain(node: cst.BaseExpression) -> bool:
    """A name or attribute chain (``labels``, ``batch.labels``): safe to evaluate twice."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


@transform
def cross_entropy_functional(t: TransformInput) -> cst.BaseExpression:
    """F.cross_entropy: as the layer, one position later. Paddle 3.3.1's unweighted 'mean'
    divides by every target when ignore_index is negative (torch's default -100), counting the
    ignored ones; torch divides by the targets kept. Sum, then divide by that count."""
    assert isinstance(t.mapped, cst.Call)
    _refuse_smoothing_mix(t)
    call = with_args(t, keyword_after(t, 3))
    reduction, weight = t.bound.value("reduction"), t.bound.value("weight")
    if (reduction is not None and not is_literal(reduction, "'mean'", '"mean"')) or (
        weight is not None and not is_literal(weight, "None")
    ):
        return call
    label = t.bound.value("target")
    ignore = t.bound.value("ignore_index")
    if label is None or (ignore is not None and not _pure_chain(ignore) and not _int_literal(ignore)):
        return call
    label_text = code_of(label)
    if _pure_chain(label):
        reuse = label_text
    else:
        reuse = "_labels"
        label_text = f"(_labels := {label_text})"
        call = call.with_changes(args=[
            a.with_changes(value=cst.parse_expression(label_text)) if a.value is label else a
            for a in call.args
        ])  # fmt: skip
    call = with_args_of(call, set_keyword(list(call.args), "reduction", cst.SimpleString("'sum'")))
    ignore_text = "-100" if ignore is None else code_of(ignore)
    return cst.parse_expression(f"{code_of(call)} / ({reuse} != {ignore_text}).astype('float32').sum()")


def _int_literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        node = node.expression
    return isinstance(node, cst.Integer)


def with_args_of(call: cst.Call, args: list[cst.Arg]) -> cst.Call:
    """``call`` with ``args``, commas fixed as they were."""
    from paddleport.rewrite.arguments import join_arguments

    return call.with_changes(args=join_arguments(call.args, args))


@transform
def explicit_dim(t: TransformInput) -> cst.BaseExpression:
    """Softmax family: torch without ``dim`` picks an axis from the input's rank (0 for 0-D,
    1-D and 3-D inputs, else 1), Paddle uses -1; only an explicit dim converts safely."""
    assert isinstance(t.mapped, cst.Call)
    dim = t.bound.value("dim")
    if dim is None or is_literal(dim, "None"):
        raise Unconvertible(
            "without `dim` torch picks the axis from the input's rank (deprecated implicit dim) "
            "while Paddle uses the last one: pass dim explicitly"
        )
    return t.mapped


@transform
def rms_norm_formula(t: TransformInput) -> cst.BaseExpression:
    """F.rms_norm: Paddle 3.3.1 has no CPU kernel (and returns a tuple), so write the formula:
    x / sqrt(mean(x², normalized axes) + eps) * weight; torch's eps=None is the dtype's epsilon."""
    x, shape = t.bound.value("input"), t.bound.value("normalized_shape")
    if x is None or shape is None:
        raise Unconvertible("pass the input and normalized_shape explicitly")
    if isinstance(shape, (cst.Tuple, cst.List)):
        axes = "[" + ", ".join(str(-i) for i in range(len(shape.elements), 0, -1)) + "]"
    elif isinstance(shape, cst.Integer):
        axes = "[-1]"
    else:  # a variable: its length gives the trailing axes at run time (an int means one axis)
        axes = "list(range(-(1 if isinstance(_s, int) else len(_s)), 0))"
    eps = t.bound.value("eps")
    eps_text = "paddle.finfo(_x.dtype).eps" if eps is None or is_literal(eps, "None") else code_of(eps)
    body = f"_x * paddle.rsqrt(_x.pow(2).mean(axis={axes}, keepdim=True) + {eps_text})"
    weight = t.bound.value("weight")
    if weight is not None and not is_literal(weight, "None"):
        w = code_of(weight)
        # a name may hold None at run time (an optional weight); * 1.0 changes no value
        body += f" * (1.0 if {w} is None else {w})" if _pure_chain(weight) else f" * ({w})"
    if "_s" in axes:
        return cst.parse_expression(f"(lambda _x, _s: {body})({code_of(x)}, {code_of(shape)})")
    return cst.parse_expression(f"(lambda _x: {body})({code_of(x)})")


@transform
def softmin_negate(t: TransformInput) -> cst.BaseExpression:
    """F.softmin(x, dim) is softmax(-x, dim); like softmax it needs an explicit dim."""
    explicit_dim(t)
    x = t.bound.value("input")
    assert isinstance(t.mapped, cst.Call) and x is not None
    negated_x = cst.parse_expression(f"-{code_of(x)}" if _pure_chain(x) else f"-({code_of(x)})")
    args = [a.with_changes(value=negated_x) if a.value is x else a for a in t.mapped.args]
    return with_args(t, args)
