"""Transforms for torch.nn layers."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from paddleport.rewrite.arguments import Unconvertible, code_of, join_arguments
from paddleport.rewrite.transforms import TransformInput, is_name_chain, transform

_EMPTY = cst.SimpleWhitespace("")
_NO_SPACE_EQUAL = cst.AssignEqual(whitespace_before=_EMPTY, whitespace_after=_EMPTY)


def keyword_after(t: TransformInput, keep: int) -> list[cst.Arg]:
    """The mapped arguments with every positional one from index ``keep`` on passed by keyword.

    Rules only know torch's parameter order; where Paddle's order differs after
    ``keep`` parameters, naming the rest is the safe spelling.
    """
    assert isinstance(t.mapped, cst.Call)
    rule = t.rule
    order = sorted(t.bound.positional_index, key=t.bound.positional_index.__getitem__)
    names = [rule.rename.get(n, n) for n in order if n not in rule.drop]
    out: list[cst.Arg] = []
    i = 0
    for arg in t.mapped.args:
        if arg.keyword is None and not arg.star:
            if i >= keep and i < len(names):
                arg = arg.with_changes(keyword=cst.Name(names[i]), equal=_NO_SPACE_EQUAL)
            i += 1
        out.append(arg)
    return out


def with_args(t: TransformInput, args: list[cst.Arg]) -> cst.Call:
    """The mapped call with ``args``, commas fixed (a trailing one only if the call had one)."""
    assert isinstance(t.mapped, cst.Call) and isinstance(t.original, cst.Call)
    return t.mapped.with_changes(args=join_arguments(t.original.args, args))


def negated(node: cst.BaseExpression) -> cst.BaseExpression:
    """``not x`` spelled simply: literal booleans flip."""
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return cst.Name("False" if node.value == "True" else "True")
    text = code_of(node)
    return cst.parse_expression(f"not ({text})" if " " in text else f"not {text}")


def set_keyword(args: list[cst.Arg], name: str, value: cst.BaseExpression) -> list[cst.Arg]:
    """Replace the value of keyword ``name``, or append it."""
    for i, a in enumerate(args):
        if a.keyword is not None and a.keyword.value == name:
            return [*args[:i], a.with_changes(value=value), *args[i + 1 :]]
    return [*args, cst.Arg(keyword=cst.Name(name), value=value, equal=_NO_SPACE_EQUAL)]


def get_keyword(args: list[cst.Arg], name: str) -> cst.BaseExpression | None:
    return next((a.value for a in args if a.keyword is not None and a.keyword.value == name), None)


def drop_keyword(args: list[cst.Arg], name: str) -> list[cst.Arg]:
    return [a for a in args if not (a.keyword is not None and a.keyword.value == name)]


def is_literal(node: cst.BaseExpression | None, *texts: str) -> bool:
    if node is None:
        return False
    return "".join(code_of(node).split()) in texts


def avg_pool(t: TransformInput, positional: int) -> cst.BaseExpression:
    """Average pooling: torch's ``count_include_pad`` is Paddle's ``exclusive`` negated, and the
    divisor_override/ceil_mode corner Paddle computes differently is refused.

    ``positional`` leading arguments agree in both (kernel_size, stride, padding, after the
    input for the functional form); ceil_mode and exclusive swap places after them.
    """
    assert isinstance(t.mapped, cst.Call)
    ceil_mode, divisor = t.bound.value("ceil_mode"), t.bound.value("divisor_override")
    if (
        divisor is not None
        and not is_literal(divisor, "None")
        and ceil_mode is not None
        and not is_literal(ceil_mode, "False")
    ):
        raise Unconvertible(
            "with ceil_mode=True, Paddle applies divisor_override differently to the partial "
            "windows at the border; pad the input explicitly and use ceil_mode=False"
        )
    args = keyword_after(t, positional)
    value = get_keyword(args, "exclusive")
    args = set_keyword(args, "exclusive", cst.Name("False") if value is None else negated(value))
    return with_args(t, args)


def max_pool(t: TransformInput, positional: int) -> cst.BaseExpression:
    """Max pooling: Paddle has no ``dilation``; the rule drops it, which is only right when it is 1."""
    assert isinstance(t.mapped, cst.Call)
    dilation = t.bound.value("dilation")
    if dilation is not None and is_name_chain(dilation):  # a value known at run time only
        pooled = code_of(with_args(t, keyword_after(t, positional)))
        d = code_of(dilation)
        t.notes.append(f"Paddle's max pooling has no dilation: the call raises NotImplementedError "
                       f"unless `{d}` is 1 at run time")  # fmt: skip
        return cst.parse_expression(
            f"({pooled} if all(_d == 1 for _d in ({d} if isinstance({d}, (list, tuple)) else [{d}])) "
            "else (_ for _ in ()).throw(NotImplementedError(\"Paddle's max pooling has no dilation\")))")
    if dilation is not None and not is_literal(dilation, "1", "(1,1)", "(1,1,1)", "[1,1]", "(1,)"):
        raise Unconvertible(
            "Paddle's max pooling has no `dilation` (only dilation=1, or a name holding 1 at run "
            "time, converts); unfold the input or pool by hand"
        )
    return with_args(t, keyword_after(t, positional))


@transform
def avg_pool_layer(t: TransformInput) -> cst.BaseExpression:
    """AvgPool*d layers."""
    return avg_pool(t, 3)


@transform
def max_pool_dilation(t: TransformInput) -> cst.BaseExpression:
    """MaxPool*d layers."""
    return max_pool(t, 3)


def _is_spelled_size(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, (cst.Tuple, cst.List, cst.SimpleString))


@transform
def conv_layer(t: TransformInput) -> cst.BaseExpression:
    """Conv*d: Paddle's ``bias`` and later parameters are keyword-only, and its non-zero
    padding modes need an int padding."""
    mode = t.bound.value("padding_mode")
    if (
        mode is not None
        and not is_literal(mode, "'zeros'", '"zeros"')
        and _is_spelled_size(t.bound.value("padding"))
    ):
        raise Unconvertible(
            "Paddle's convolutions accept padding_mode other than 'zeros' only with an int "
            "padding; "
            "pad with F.pad(mode=...) first and use padding=0"
        )
    from paddleport.rewrite.transforms.functional import same_with_dilation

    if same_with_dilation(t):
        raise Unconvertible(
            "Paddle computes padding='same' wrongly when dilation > 1; pass the explicit padding "
            "dilation * (kernel_size - 1) // 2 (odd kernels)"
        )
    return with_args(t, keyword_after(t, 7))


@transform
def conv_transpose_layer(t: TransformInput) -> cst.BaseExpression:
    """ConvTranspose*d: Paddle puts ``dilation`` before the bias (in 2-D/3-D, before groups)."""
    return with_args(t, keyword_after(t, 6))


def _flag_attr(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """A torch on/off flag as a Paddle ``*_attr``: None (default parameter) or False (none)."""
    if is_literal(value, "True"):
        return None
    if is_literal(value, "False"):
        return cst.Name("False")
    return cst.parse_expression(f"None if {code_of(value)} else False")


def _both(a: cst.BaseExpression | None, b: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """The flag ``a and b`` (None: neither given, so torch's default True)."""
    if a is None or is_literal(a, "True"):
        return b
    if b is None or is_literal(b, "True") or is_literal(a, "False"):
        return a
    if is_literal(b, "False"):
        return b
    return cst.parse_expression(f"({code_of(a)}) and ({code_of(b)})")


@transform
def batchnorm_layer(t: TransformInput) -> cst.BaseExpression:
    """BatchNorm*d: name everything after num_features (Paddle takes momentum before epsilon),
    turn torch's momentum into Paddle's (1 - m), affine/bias into weight_attr/bias_attr and
    track_running_stats=False into use_global_stats=False (batch statistics in eval too)."""
    from paddleport.rewrite.transforms import batchnorm_momentum

    args = keyword_after(t, 1)
    affine, bias = get_keyword(args, "affine"), get_keyword(args, "bias")
    args = drop_keyword(drop_keyword(args, "affine"), "bias")
    has_bias = _both(affine, bias)  # torch has a bias only with affine=True and bias=True
    for name, flag in (("weight_attr", affine), ("bias_attr", has_bias)):
        attr = None if flag is None else _flag_attr(flag)
        if attr is not None:
            args = set_keyword(args, name, attr)
    track = get_keyword(args, "track_running_stats")
    args = drop_keyword(args, "track_running_stats")
    if track is not None and not is_literal(track, "True"):
        # use_global_stats=None is Paddle's default (batch statistics in train, running in eval)
        args = set_keyword(args, "use_global_stats", _flag_attr(track) or cst.Name("None"))
    return batchnorm_momentum(replace(t, mapped=with_args(t, args)))


def _set_or_flip(args: list[cst.Arg], torch_name: str, paddle_name: str,
                 default: cst.BaseExpression, convert: object) -> list[cst.Arg]:  # fmt: skip
    """Replace keyword ``torch_name`` by ``paddle_name`` = convert(value), or add the default."""
    value = get_keyword(args, torch_name)
    args = drop_keyword(args, torch_name)
    new = default if value is None else convert(value)  # type: ignore[operator]
    return set_keyword(args, paddle_name, new)


def _direction(value: cst.BaseExpression) -> cst.BaseExpression:
    if is_literal(value, "True"):
        return cst.SimpleString("'bidirect'")
    if is_literal(value, "False"):
        return cst.SimpleString("'forward'")
    return cst.parse_expression(f"'bidirect' if {code_of(value)} else 'forward'")


# Paddle 3.3.1's LSTM/GRU/SimpleRNN crash (SIGSEGV) when built without biases (bias_ih_attr=False),
# and their backward fails on untrainable ones: biases fixed at zero (learning rate 0) compute
# the same as none.
_ZERO_BIAS = "paddle.ParamAttr(initializer=paddle.nn.initializer.Constant(0.0), learning_rate=0.0)"


def _bias_attrs(t: TransformInput, args: list[cst.Arg], bias: cst.BaseExpression | None) -> list[cst.Arg]:
    args = drop_keyword(args, "bias")
    if bias is None or is_literal(bias, "True"):
        return args
    if is_literal(bias, "False"):
        zero = _ZERO_BIAS
    elif is_name_chain(bias):  # known at run time only
        zero = f"(None if {code_of(bias)} else {_ZERO_BIAS})"
    else:
        raise Unconvertible("bias is an expression: assign it to a name first")
    t.notes.append("bias=False becomes biases fixed at zero (Paddle's RNNs crash without them): the same "
                   "outputs, but parameters() and state_dict() list bias_ih/bias_hh tensors torch has not")
    args = set_keyword(args, "bias_ih_attr", cst.parse_expression(zero))
    return set_keyword(args, "bias_hh_attr", cst.parse_expression(zero))


@transform
def rnn_layer(t: TransformInput) -> cst.BaseExpression:
    """LSTM/GRU/RNN: batch_first → time_major (negated; torch defaults to time-major),
    bidirectional → direction, bias=False refused (Paddle crashes)."""
    assert isinstance(t.mapped, cst.Call)
    if t.bound.passthrough_star or t.bound.extra_keywords:
        raise Unconvertible(
            "`*args`/`**kwargs` hide which RNN arguments are passed (batch_first, bidirectional, "
            "bias, device/dtype): pass them by name"
        )
    args = keyword_after(t, 3)
    bias = get_keyword(args, "bias")
    args = _bias_attrs(t, args, bias)
    args = _set_or_flip(args, "batch_first", "time_major", cst.Name("True"), negated)
    value = get_keyword(args, "bidirectional")
    if value is not None:
        args = set_keyword(drop_keyword(args, "bidirectional"), "direction", _direction(value))
    return with_args(t, args)


@transform
def instance_norm_layer(t: TransformInput) -> cst.BaseExpression:
    """InstanceNorm*d: torch has no affine parameters by default (Paddle has), and Paddle
    keeps no running statistics, so momentum has nothing to act on."""
    assert isinstance(t.mapped, cst.Call)
    args = keyword_after(t, 2)
    for name in ("track_running_stats", "bias"):  # literal values are settled by the rule's data
        value = get_keyword(args, name)
        if value is not None and not (is_literal(value, "False") or is_literal(value, "True")):
            raise Unconvertible(f"`{name}={code_of(value)}` is known only at run time; Paddle's InstanceNorm "
                                f"takes no {name} (only torch's default converts): pass a literal")
    args = drop_keyword(drop_keyword(args, "track_running_stats"), "bias")
    affine = get_keyword(args, "affine")
    args = drop_keyword(args, "affine")
    if affine is None or is_literal(affine, "False"):
        args = set_keyword(
            set_keyword(args, "weight_attr", cst.Name("False")), "bias_attr", cst.Name("False")
        )
    elif not is_literal(affine, "True"):
        flag = cst.parse_expression(f"None if {code_of(affine)} else False")
        args = set_keyword(set_keyword(args, "weight_attr", flag), "bias_attr", flag)
    return with_args(t, args)


@transform
def upsample_layer(t: TransformInput) -> cst.BaseExpression:
    """Upsample: Paddle needs ``size`` as a list, and takes align_mode before later flags."""
    assert isinstance(t.mapped, cst.Call)
    if isinstance(t.bound.value("size"), cst.Integer):
        raise Unconvertible(
            "Paddle's Upsample needs `size` as a list with one entry per spatial axis, e.g. [7, 7]"
        )
    return with_args(t, keyword_after(t, 4))


@transform
def transformer_layer(t: TransformInput) -> cst.BaseExpression:
    """Transformer*Layer: Paddle is batch-first only and names norm_first normalize_before."""
    assert isinstance(t.mapped, cst.Call)
    batch_first = t.bound.value("batch_first")
    if batch_first is None or not is_literal(batch_first, "True"):
        raise Unconvertible(
            "Paddle's transformer layers are batch-first only: pass batch_first=True in torch "
            "(and feed [batch, seq, feature] inputs) before converting"
        )
    activation = t.bound.value("activation")
    if activation is not None and not isinstance(activation, cst.SimpleString):
        raise Unconvertible("Paddle's transformer layers take the activation as a string ('relu' or 'gelu')")
    args = drop_keyword(keyword_after(t, 2), "batch_first")
    return with_args(t, args)


@transform
def buffer_to_tensor(t: TransformInput) -> cst.BaseExpression:
    """``nn.Buffer(t, persistent=False)`` → ``t``: a Paddle Layer registers a tensor assigned
    to an attribute as a non-persistable buffer, which is exactly that. Persistent buffers
    need register_buffer, which the call alone cannot write."""
    data = t.bound.value("data")
    if data is None:
        raise Unconvertible("an empty Buffer has no Paddle spelling: register_buffer a tensor")
    if not is_literal(t.bound.value("persistent"), "False"):
        raise Unconvertible(
            "a persistent buffer must be registered: replace `self.name = nn.Buffer(t)` with "
            "`self.register_buffer('name', t)` (and `persistent=` with `persistable=`)"
        )
    return data


@transform
def embedding_layer(t: TransformInput) -> cst.BaseExpression:
    """Embedding: Paddle outputs zeros at padding_idx whatever the weight row holds. torch keeps
    that row zero itself (zero init, zero gradient), so they agree unless weights come in by hand."""
    padding_idx = t.bound.value("padding_idx")
    if (
        padding_idx is not None
        and not is_literal(padding_idx, "None")
        and t.bound.value("_weight") is not None
    ):
        raise Unconvertible(
            "with padding_idx, Paddle returns zeros for that index whatever `_weight` holds there; "
            "zero that row of the weight first (torch would return it as is)"
        )
    assert isinstance(t.mapped, cst.Call)
    return t.mapped


# -- torch.nn.utils -------------------------------------------------------------------------


@transform
def pad_sequence_expr(t: TransformInput) -> cst.BaseExpression:
    """rnn.pad_sequence has no Paddle function: pad each tensor's first axis to the longest
    with paddle.compat's torch-ordered pad, then stack along the batch axis."""
    seqs = t.bound.value("sequences")
    if seqs is None or t.bound.passthrough_star:
        raise Unconvertible("pass the sequences explicitly so the padding can be written out")
    side = t.bound.value("padding_side")
    if side is not None and not is_literal(side, "'right'", '"right"', "'left'", '"left"'):
        raise Unconvertible("padding_side must be the literal 'right' or 'left'")
    left = side is not None and is_literal(side, "'left'", '"left"')
    batch_first = t.bound.value("batch_first")
    if batch_first is None or is_literal(batch_first, "False"):
        axis = "1"
    elif is_literal(batch_first, "True"):
        axis = "0"
    else:
        axis = f"0 if {code_of(batch_first)} else 1"
    value = t.bound.value("padding_value")
    pad_value = "0.0" if value is None else code_of(value)
    name = code_of(seqs) if is_name_chain(seqs) else "_seqs"
    missing = f"max(_t.shape[0] for _t in {name}) - _s.shape[0]"
    tail = f"[{missing}, 0]" if left else f"[0, {missing}]"
    body = (
        f"paddle.stack([paddle.compat.nn.functional.pad(_s, [0, 0] * (_s.ndim - 1) + {tail}, "
        f"value={pad_value}) for _s in {name}], axis={axis})"
    )
    if name == "_seqs":
        body = f"(lambda _seqs: {body})({code_of(seqs)})"
    return cst.parse_expression(body)


@transform
def linear_features(t: TransformInput) -> cst.BaseExpression:
    """``fc.in_features`` → ``fc.weight.shape[0]``: Paddle's Linear keeps only its [in, out] weight."""
    assert isinstance(t.original, cst.Attribute)
    index = 0 if t.original.attr.value == "in_features" else 1
    return cst.parse_expression(f"{code_of(t.original.value)}.weight.shape[{index}]")


# What torch's BatchNorm attributes read as on Paddle's: momentum is stored as 1 - torch's,
# tracking is `use_global_stats` not False, and no batch counter exists (None, as torch has
# when it does not track).
_BATCHNORM_MEMBERS = {
    "momentum": "(1 - {x}._momentum)",
    "eps": "{x}._epsilon",
    "track_running_stats": "({x}._use_global_stats is not False)",
    "num_batches_tracked": "None",
}


@transform
def batchnorm_member(t: TransformInput) -> cst.BaseExpression:
    """``bn.momentum`` → ``(1 - bn._momentum)`` and the other attributes of _BATCHNORM_MEMBERS."""
    assert isinstance(t.original, cst.Attribute)
    template = _BATCHNORM_MEMBERS[t.original.attr.value]
    return cst.parse_expression(template.format(x=code_of(t.original.value)))


_DTYPE_NAMES = frozenset({
    "float16", "float32", "float64", "bfloat16", "half", "float", "double", "int8", "int16",
    "int32", "int64", "uint8", "bool", "complex64", "complex128", "long", "int", "short",
})  # fmt: skip


def _is_dtype(node: cst.BaseExpression) -> bool:
    """``torch.float16`` / ``paddle.float16`` (before or after its own rewrite), ``dtype`` names."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return node.value.value in ("torch", "paddle") and node.attr.value in _DTYPE_NAMES
    return isinstance(node, cst.Name) and node.value.endswith("dtype")


@transform
def module_to(t: TransformInput) -> cst.BaseExpression:
    """``model.to(torch.float64)``: Paddle's Layer.to takes the device first, so a dtype goes by keyword."""
    mapped = t.mapped
    assert isinstance(mapped, cst.Call)
    args = list(mapped.args)
    positional = [i for i, a in enumerate(args) if a.keyword is None and not a.star]
    if positional and _is_dtype(args[positional[0]].value):
        first = positional[0]
        args[first] = args[first].with_changes(
            keyword=cst.Name("dtype"),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                  whitespace_after=cst.SimpleWhitespace("")))  # fmt: skip
        if len(positional) > 1:
            raise Unconvertible("a dtype followed by more positional arguments: pass them by keyword")
    # Paddle 3.3.1's Layer.to fails on a layer holding an RNN (its uninitialised dropout-state
    # buffer): a helper moves the layer with such buffers set aside, and returns it as torch does
    assert isinstance(mapped.func, cst.Attribute)
    receiver = cst.Arg(value=mapped.func.value)
    return cst.Call(func=cst.parse_expression("_paddleport_vision.layer_to"), args=[receiver, *args])


@transform
def embedding_from_pretrained(t: TransformInput) -> cst.BaseExpression:
    """``nn.Embedding.from_pretrained(w)``: a Paddle Embedding with the weights as its initializer."""
    weights = t.bound.value("embeddings")
    if weights is None:
        raise Unconvertible("no embeddings argument")
    if not is_name_chain(weights):
        raise Unconvertible("the weights are used three times in Paddle: assign them to a name first")
    w = code_of(weights)
    freeze = t.bound.value("freeze")
    trainable = "False" if freeze is None else f"not ({code_of(freeze)})"
    if isinstance(freeze, cst.Name) and freeze.value in ("True", "False"):
        trainable = "False" if freeze.value == "True" else "True"
    sparse = t.bound.value("sparse")
    extra = "" if sparse is None else f", sparse={code_of(sparse)}"
    return cst.parse_expression(
        f"paddle.nn.Embedding({w}.shape[0], {w}.shape[1]{extra}, weight_attr=paddle.ParamAttr("
        f"initializer=paddle.nn.initializer.Assign({w}), trainable={trainable}))"
    )


@transform
def square_subsequent_mask(t: TransformInput) -> cst.BaseExpression:
    """``generate_square_subsequent_mask(sz)``: static in torch, bound in Paddle; spelled out."""
    size = t.bound.value("sz")
    if size is None:
        raise Unconvertible("no size argument")
    sz = code_of(size)
    if not (is_name_chain(size) or isinstance(size, cst.Integer)):
        raise Unconvertible("the size is used twice in Paddle: assign it to a name first")
    return cst.parse_expression(f"paddle.triu(paddle.full([{sz}, {sz}], float('-inf')), 1)")


@transform
def layer_member_by_type(t: TransformInput) -> cst.BaseExpression:
    """``c.out_channels`` → ``(c._out_channels if isinstance(c, <paddle class>) else c.out_channels)``.

    Paddle keeps a conv's sizes under private names; a receiver of unknown type (a layer from a
    factory function) may be a user class that sets its own ``out_channels``, so the check runs
    when the code does and either kind reads right. The Paddle class is the rule's owner. The
    other kind's attribute is read through ``getattr``, so converting the output again changes nothing.
    """
    node = t.original
    if not isinstance(node, cst.Attribute) or t.statement is not None:
        raise Unconvertible(f"only reads of `{t.rule.api.rsplit('.', 1)[-1]}` convert")
    if not is_name_chain(node.value):
        raise Unconvertible(
            f"`{code_of(node.value)}` would run twice: bind it to a name first, "
            f"then read `.{node.attr.value}`"
        )
    assert t.rule.paddle is not None
    owner, _, private = t.rule.paddle.rpartition(".")
    recv = code_of(node.value)
    return cst.parse_expression(
        f"({recv}.{private} if isinstance({recv}, {owner}) else getattr({recv}, '{node.attr.value}'))"
    )
