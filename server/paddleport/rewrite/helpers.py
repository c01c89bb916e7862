"""Small definitions a conversion writes into the converted file, once, after its imports.

Some torch and torchvision behaviour has no Paddle expression: torch's RMSNorm and RNN cells,
``torch.func``, pytrees, the attention-backend choice, ``reset_parameters``; torchvision's
datasets give ``(image, int)`` items and read a ``root`` folder, Paddle's give ``(image, int64
array of shape [1])`` and take file paths; Paddle has no ``box_iou`` or ``make_grid``. A rule's
transform then calls a helper with the original's signature (``_paddleport_vision.MNIST(root,
...)``) and this module adds a class holding the helpers the file calls (and those they call),
the way ``dynamic.add_namespaces`` adds runtime lookup maps. The helpers are verified by the
rules' examples.
"""

from __future__ import annotations

import ast
import re

from paddleport.analysis.source import SourceText
from paddleport.rewrite.dynamic import add_class, class_insertion, defined_class
from paddleport.rewrite.edits import TextEdit, apply_edits

VISION = "_paddleport_vision"
# Helpers that check their first argument at run time and do what the original code did
# for anything but a paddle tensor: a call of one is right whatever the receiver is, so it
# is applied on receivers of unknown type too (d2l's ``lambda x, *args, **kwargs: x.type(...)``).
DISPATCHING = frozenset({"tensor_type", "promote"})

# member -> (source, indented one level inside the class; members it calls)
MEMBERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Labels": ('''
class Labels(paddle.io.Dataset):
    """A dataset whose items are (image, int label), as torchvision's are."""

    def __init__(self, data, target_transform=None):
        self.data, self.target_transform = data, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, label = self.data[index]
        label = int(label.reshape([-1])[0]) if hasattr(label, "reshape") else int(label)
        return image, label if self.target_transform is None else self.target_transform(label)
''', ()),
    "box_area": ('''
@staticmethod
def box_area(boxes):
    """Areas of (x1, y1, x2, y2) boxes."""
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
''', ()),
    "box_iou": ('''
@staticmethod
def box_iou(boxes1, boxes2):
    """Pairwise intersection over union of (x1, y1, x2, y2) boxes: [N, M]."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = paddle.maximum(boxes1[:, None, :2], boxes2[:, :2])
    rb = paddle.minimum(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = (rb - lt).clip(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    return inter / (area1[:, None] + area2 - inter)
''', ()),
    "box_convert": ('''
@staticmethod
def box_convert(boxes, in_fmt, out_fmt):
    """Boxes between 'xyxy', 'xywh' and 'cxcywh'."""
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    elif in_fmt != "xyxy":
        raise ValueError(f"unsupported box format {in_fmt!r}")
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    elif out_fmt != "xyxy":
        raise ValueError(f"unsupported box format {out_fmt!r}")
    return paddle.stack([a, b, c, d], axis=-1)
''', ()),
    "clip_boxes_to_image": ('''
@staticmethod
def clip_boxes_to_image(boxes, size):
    """(x1, y1, x2, y2) boxes clipped to an image of size (height, width)."""
    height, width = size
    x = boxes[..., 0::2].clip(min=0, max=width)
    y = boxes[..., 1::2].clip(min=0, max=height)
    return paddle.stack([x, y], axis=-1).reshape(boxes.shape)
''', ()),
    "make_grid": ('''
@staticmethod
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """torchvision.utils.make_grid: a batch of CHW images tiled into one CHW image."""
    if isinstance(tensor, (list, tuple)):
        tensor = paddle.stack(list(tensor), axis=0)
    if tensor.ndim == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 3:
        if tensor.shape[0] == 1:
            tensor = paddle.concat([tensor] * 3, axis=0)
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 4 and tensor.shape[1] == 1:
        tensor = paddle.concat([tensor] * 3, axis=1)
    if normalize:
        def norm(t):
            low, high = value_range if value_range is not None else (float(t.min()), float(t.max()))
            return ((t.clip(min=low, max=high) - low) / max(high - low, 1e-5))
        tensor = paddle.stack([norm(t) for t in tensor]) if scale_each else norm(tensor.clone())
    if tensor.shape[0] == 1:
        return tensor.squeeze(0)
    nmaps, channels, height, width = tensor.shape
    xmaps = min(nrow, nmaps)
    ymaps = -(-nmaps // xmaps)
    height, width = height + padding, width + padding
    grid = paddle.full([channels, height * ymaps + padding, width * xmaps + padding], pad_value, tensor.dtype)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            top, left = y * height + padding, x * width + padding
            grid[:, top:top + height - padding, left:left + width - padding] = tensor[k]
            k += 1
    return grid
''', ()),
    "conv_bn_eval": ('''
@staticmethod
def conv_bn_eval(conv, bn, transpose=False):
    """torch.nn.utils.fusion.fuse_conv_bn_eval: a copy of conv computing bn(conv(x)) with bn's statistics."""
    import copy

    fused = copy.deepcopy(conv)
    w = conv.weight
    channels = w.shape[1] if transpose else w.shape[0]
    bias = conv.bias if conv.bias is not None else paddle.zeros([channels], dtype=w.dtype)
    gamma = bn.weight if bn.weight is not None else paddle.ones([channels], dtype=w.dtype)
    beta = bn.bias if bn.bias is not None else paddle.zeros([channels], dtype=w.dtype)
    scale = gamma * paddle.rsqrt(bn._variance + bn._epsilon)
    shape = [1, -1] + [1] * (w.ndim - 2) if transpose else [-1] + [1] * (w.ndim - 1)
    fused.weight.set_value(w * scale.reshape(shape))
    new_bias = (bias - bn._mean) * scale + beta
    if fused.bias is None:
        fused.bias = fused.create_parameter([channels], dtype=w.dtype, is_bias=True)
    fused.bias.set_value(new_bias)
    return fused
''', ()),
    "save_image": ('''
@staticmethod
def save_image(tensor, fp, format=None, **kwargs):
    """torchvision.utils.save_image: make_grid, then an 8-bit image file written by PIL."""
    from PIL import Image

    grid = _paddleport_vision.make_grid(tensor, **kwargs)
    array = (grid * 255 + 0.5).clip(0, 255).transpose([1, 2, 0]).astype("uint8").numpy()
    Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(fp, format=format)
''', ("make_grid",)),
    "random_crop_params": ('''
@staticmethod
def random_crop_params(img, output_size):
    """torchvision's RandomCrop.get_params: (top, left, height, width) of a random crop."""
    import random

    height, width = (img.shape[-2], img.shape[-1]) if hasattr(img, "shape") else (img.size[1], img.size[0])
    th, tw = output_size
    if height < th or width < tw:
        raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(height, width)}")
    if (height, width) == (th, tw):
        return 0, 0, height, width
    return random.randint(0, height - th), random.randint(0, width - tw), th, tw
''', ()),
    "read_image": ('''
@staticmethod
def read_image(path, mode="UNCHANGED"):
    """torchvision.io.read_image: a uint8 CHW tensor, read with PIL."""
    import numpy as np
    from PIL import Image

    image = Image.open(path)
    mode = getattr(mode, "name", mode)
    if mode in ("RGB", "GRAY", "GRAY_ALPHA", "RGB_ALPHA"):
        image = image.convert({"GRAY": "L", "GRAY_ALPHA": "LA", "RGB_ALPHA": "RGBA"}.get(mode, mode))
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    return paddle.to_tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))
''', ()),
    "RandomGrayscale": ('''
class RandomGrayscale(paddle.nn.Layer):
    """torchvision's RandomGrayscale: with probability p, grey with as many channels as the input
    (a Layer, as torchvision's transforms are Modules that nn.Sequential holds)."""

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        import random

        if random.random() >= self.p:
            return img
        if not isinstance(img, paddle.Tensor):  # a PIL image
            return img.convert("L").convert(img.mode) if img.mode in ("RGB", "L") else img
        if img.shape[-3] == 1:
            return img
        r, g, b = img.unbind(-3)[:3]
        grey = (0.2989 * r.astype("float32") + 0.587 * g.astype("float32") + 0.114 * b.astype("float32"))
        grey = grey.astype(img.dtype).unsqueeze(-3)
        return grey.expand([*img.shape[:-3], img.shape[-3], *img.shape[-2:]])
''', ()),
    "GaussianBlur": ('''
class GaussianBlur(paddle.nn.Layer):
    """torchvision's GaussianBlur on tensors (..., C, H, W): sigma drawn uniformly from its range,
    a separable Gaussian kernel, reflect padding."""

    def __init__(self, kernel_size, sigma=(0.1, 2.0)):
        super().__init__()
        self.kernel_size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        self.sigma = (sigma, sigma) if isinstance(sigma, (int, float)) else tuple(sigma)

    def forward(self, img):
        import random

        if not isinstance(img, paddle.Tensor):
            raise TypeError("paddleport's GaussianBlur takes tensors: blur PIL images with ImageFilter")
        sigma = random.uniform(self.sigma[0], self.sigma[1])
        kx, ky = self.kernel_size

        def kernel1d(size):
            x = paddle.linspace(-(size - 1) * 0.5, (size - 1) * 0.5, size)
            pdf = paddle.exp(-0.5 * (x / sigma) ** 2)
            return pdf / pdf.sum()

        kernel = kernel1d(ky)[:, None] * kernel1d(kx)[None, :]
        shape, dtype = img.shape, img.dtype
        x = img.reshape([-1, *shape[-3:]]).astype("float32")
        channels = shape[-3]
        weight = kernel.expand([channels, 1, ky, kx])
        x = paddle.nn.functional.pad(x, [kx // 2, kx // 2, ky // 2, ky // 2], mode="reflect")
        x = paddle.nn.functional.conv2d(x, weight, groups=channels)
        if dtype not in (paddle.float16, paddle.float32, paddle.float64, paddle.bfloat16):
            x = x.round()
        return x.astype(dtype).reshape(shape)
''', ()),
    "scaled_dot_product_attention": ('''
@staticmethod
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, enable_gqa=False):
    """Attention over any number of leading dims, as the original took it: Paddle's takes
    [batch, heads, length, dim]."""
    attention = paddle.compat.nn.functional.scaled_dot_product_attention
    if query.ndim == 4:
        return attention(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal,
                         scale=scale, enable_gqa=enable_gqa)
    lead = list(query.shape[:-2])

    def four(t):
        return t.reshape([-1, 1, *t.shape[-2:]])

    if attn_mask is not None:
        attn_mask = four(attn_mask.expand([*lead, query.shape[-2], key.shape[-2]]))
    out = attention(four(query), four(key), four(value), attn_mask=attn_mask, dropout_p=dropout_p,
                    is_causal=is_causal, scale=scale, enable_gqa=enable_gqa)
    return out.reshape([*lead, *out.shape[-2:]])
''', ()),
    "RMSNorm": ('''
class RMSNorm(paddle.nn.Layer):
    """torch's nn.RMSNorm (Paddle 3.3.1 has no RMSNorm layer, and its rms_norm no CPU kernel):
    x * rsqrt(mean(x**2 over the normalized axes) + eps) * weight, eps=None meaning the dtype's epsilon."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = None
        if elementwise_affine:
            self.weight = self.create_parameter(
                list(shape), dtype=dtype, default_initializer=paddle.nn.initializer.Constant(1.0))

    def reset_parameters(self):
        if self.weight is not None:
            self.weight.set_value(paddle.ones_like(self.weight))

    def forward(self, x):
        axes = list(range(-len(self.normalized_shape), 0))
        eps = paddle.finfo(x.dtype).eps if self.eps is None else self.eps
        out = x * paddle.rsqrt(x.pow(2).mean(axis=axes, keepdim=True) + eps)
        return out if self.weight is None else out * self.weight

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
''', ()),
    "_RNNCellBase": ('''
class _RNNCellBase:
    """torch's RNN cells over Paddle's: torch's constructor arguments, forward(input, hx=None) returning
    the new state only (Paddle's returns (output, new_states)), an unbatched (1-D) input as torch takes it."""

    def _torch_args(self, bias):
        off = paddle.ParamAttr(initializer=paddle.nn.initializer.Constant(0.0), learning_rate=0.0)
        return {} if bias else {"bias_ih_attr": off, "bias_hh_attr": off}

    def _torch_dtype(self, dtype):
        if dtype is not None:
            self.to(dtype=dtype)

    def forward(self, input, hx=None):
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = tuple(h.unsqueeze(0) for h in hx) if isinstance(hx, (tuple, list)) else hx.unsqueeze(0)
        if hx is None:  # zeros of the input's dtype (Paddle's own are of the default dtype)
            shape, batch = self.state_shape, input.shape[0]
            if isinstance(shape[0], (tuple, list)):
                hx = tuple(paddle.zeros([batch, *s], dtype=input.dtype) for s in shape)
            else:
                hx = paddle.zeros([batch, *shape], dtype=input.dtype)
        if isinstance(hx, list):
            hx = tuple(hx)
        _, state = super().forward(input, hx)
        if isinstance(state, (tuple, list)):
            return tuple(s if batched else s.squeeze(0) for s in state)
        return state if batched else state.squeeze(0)
''', ()),
    "GRUCell": ('''
class GRUCell(_RNNCellBase, paddle.nn.GRUCell):
    """torch's nn.GRUCell: forward(input, hx=None) returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        paddle.nn.GRUCell.__init__(self, input_size, hidden_size, **self._torch_args(bias))
        self._torch_dtype(dtype)
''', ("_RNNCellBase",)),
    "LSTMCell": ('''
class LSTMCell(_RNNCellBase, paddle.nn.LSTMCell):
    """torch's nn.LSTMCell: forward(input, hx=None) with hx = (h, c) returns (h', c')."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        paddle.nn.LSTMCell.__init__(self, input_size, hidden_size, **self._torch_args(bias))
        self._torch_dtype(dtype)
''', ("_RNNCellBase",)),
    "RNNCell": ('''
class RNNCell(_RNNCellBase, paddle.nn.SimpleRNNCell):
    """torch's nn.RNNCell: forward(input, hx=None) returns h'."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        paddle.nn.SimpleRNNCell.__init__(self, input_size, hidden_size, activation=nonlinearity,
                                         **self._torch_args(bias))
        self._torch_dtype(dtype)
''', ("_RNNCellBase",)),
    "sdpa_kernel": ('''
@staticmethod
def sdpa_kernel(*args, **kwargs):
    """torch's attention-backend choice (nn.attention.sdpa_kernel, backends.cuda.sdp_kernel): Paddle
    picks its attention kernel itself, so a context that changes nothing."""
    return __import__("contextlib").nullcontext()
''', ()),
    "reset_parameters": ('''
@staticmethod
def reset_parameters(layer):
    """torch's reset_parameters of a convolution or Linear (Paddle's layers have none): the weight
    from kaiming_uniform(a=sqrt(5)) and the bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), with torch's
    fan_in. ``super().reset_parameters()`` in a subclass passes the super object: its instance is reset."""
    if isinstance(layer, super):
        layer = layer.__self__
    weight = layer.weight
    if isinstance(layer, paddle.nn.Linear):  # Paddle's Linear stores [in, out]
        fan_in = weight.shape[0]
    else:  # convolutions (transposed ones too) and paddle.compat.nn.Linear: torch's layout
        fan_in = 1
        for size in weight.shape[1:]:
            fan_in *= size
    bound = 1 / fan_in ** 0.5 if fan_in > 0 else 0.0
    weight.set_value(paddle.uniform(weight.shape, dtype=weight.dtype, min=-bound, max=bound))
    if getattr(layer, "bias", None) is not None:
        layer.bias.set_value(paddle.uniform(layer.bias.shape, dtype=layer.bias.dtype, min=-bound, max=bound))
''', ()),
    "BlockMask": ('''
class BlockMask:
    """torch's flex-attention BlockMask, dense: the boolean mask [B, H, Q_LEN, KV_LEN] its mask_mod gives
    (torch's block-sparse layout is a speed-up of the same mask)."""

    def __init__(self, mask, mask_mod):
        self.mask, self.mask_mod = mask, mask_mod
        self.shape = tuple(mask.shape)

    def to_dense(self):
        return self.mask.astype("int32")
''', ()),
    "create_block_mask": ('''
@staticmethod
def create_block_mask(mask_mod, B, H, Q_LEN, KV_LEN, device="cuda", BLOCK_SIZE=128, _compile=False):
    """torch's create_block_mask: mask_mod evaluated once on broadcast index tensors (it is elementwise,
    as torch's vmap requires), a batch or head count of None meaning 1."""
    B, H = 1 if B is None else B, 1 if H is None else H
    b = paddle.arange(B).reshape([-1, 1, 1, 1])
    h = paddle.arange(H).reshape([1, -1, 1, 1])
    q = paddle.arange(Q_LEN).reshape([1, 1, -1, 1])
    kv = paddle.arange(KV_LEN).reshape([1, 1, 1, -1])
    mask = paddle.broadcast_to(paddle.to_tensor(mask_mod(b, h, q, kv)).astype("bool"), [B, H, Q_LEN, KV_LEN])
    return _paddleport_vision.BlockMask(mask, mask_mod)
''', ("BlockMask",)),
    "flex_attention": ('''
@staticmethod
def flex_attention(query, key, value, score_mod=None, block_mask=None, scale=None, enable_gqa=False,
                   return_lse=False, kernel_options=None, *, return_aux=None):
    """torch's flex_attention, computed densely: softmax(score_mod(q @ k^T * scale)) masked by the block
    mask, @ v; rows with every key masked give zeros (and a log-sum-exp of -inf), as torch's do."""
    b, hq, lq, e = query.shape
    hkv, lkv = key.shape[1], key.shape[2]
    if hq != hkv:
        if not enable_gqa:
            raise ValueError("query and key/value head counts differ: pass enable_gqa=True")
        key = paddle.repeat_interleave(key, hq // hkv, axis=1)
        value = paddle.repeat_interleave(value, hq // hkv, axis=1)
    scale = e ** -0.5 if scale is None else scale
    scores = paddle.matmul(query.astype("float32"), key.astype("float32"), transpose_y=True) * scale
    if score_mod is not None:
        index = [paddle.arange(n).reshape([-1 if i == axis else 1 for i in range(4)])
                 for axis, n in enumerate((b, hq, lq, lkv))]
        scores = score_mod(scores, *index)
    if block_mask is not None:
        mask = paddle.broadcast_to(block_mask.mask, scores.shape)
        scores = paddle.where(mask, scores, paddle.full_like(scores, float("-inf")))
    lse = paddle.logsumexp(scores, axis=-1)
    weights = paddle.exp(scores - paddle.where(paddle.isinf(lse), paddle.zeros_like(lse), lse).unsqueeze(-1))
    out = paddle.matmul(weights, value.astype("float32")).astype(query.dtype)
    if return_aux is not None and getattr(return_aux, "lse", False):
        return out, type("AuxOutput", (), {"lse": lse, "max_scores": paddle.max(scores, axis=-1)})()
    return (out, lse) if return_lse else out
''', ()),
    "layer_to": ('''
@staticmethod
def layer_to(layer, *args, **kwargs):
    """layer.to(...) returning the layer; buffers not yet initialised (an RNN's dropout state, on
    which Paddle's Layer.to fails) are set aside while the rest moves."""
    held = []
    for sub in layer.sublayers(include_self=True):
        for name, buffer in list(sub._buffers.items()):
            if buffer is not None and not buffer._is_initialized():
                held.append((sub, name, buffer))
                sub._buffers[name] = None
    try:
        layer.to(*args, **kwargs)
    finally:
        for sub, name, buffer in held:
            sub._buffers[name] = buffer
    return layer
''', ()),
    "promote": ('''
@staticmethod
def promote(x, dtype):
    """The original's type promotion, which Paddle refuses between tensors of different kinds: an integer
    or bool tensor meeting a floating tensor of `dtype` is cast to it; anything else is returned as is."""
    if isinstance(x, paddle.Tensor) and not (x.is_floating_point() or x.is_complex()):
        return x.astype(dtype)
    return x
''', ()),
    "get_dimensions": ('''
@staticmethod
def get_dimensions(img):
    """torchvision's get_dimensions: [channels, height, width] of a PIL image or a (..., H, W) tensor."""
    if isinstance(img, paddle.Tensor):
        if img.ndim < 2:
            raise TypeError("Tensor is not a torch image.")
        return [1 if img.ndim == 2 else img.shape[-3], img.shape[-2], img.shape[-1]]
    if not hasattr(img, "size") or not (hasattr(img, "getbands") or hasattr(img, "channels")):
        raise TypeError(f"Unexpected type {type(img)}")
    width, height = img.size
    return [len(img.getbands()) if hasattr(img, "getbands") else img.channels, height, width]
''', ()),
    "get_image_size": ('''
@staticmethod
def get_image_size(img):
    """torchvision's get_image_size: [width, height] of a PIL image or a (..., H, W) tensor."""
    if isinstance(img, paddle.Tensor):
        if img.ndim < 2:
            raise TypeError("Tensor is not a torch image.")
        return [img.shape[-1], img.shape[-2]]
    if not hasattr(img, "size") or not hasattr(img, "getbands"):
        raise TypeError(f"Unexpected type {type(img)}")
    return list(img.size)
''', ()),
    "pil_to_tensor": ('''
@staticmethod
def pil_to_tensor(pic):
    """torchvision's pil_to_tensor: a PIL image's values as a CHW tensor of its own dtype, unscaled."""
    import numpy as np
    from PIL import Image

    if not isinstance(pic, Image.Image):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, copy=True).reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return paddle.to_tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))
''', ()),
    "resized_crop": ('''
@staticmethod
def resized_crop(img, top, left, height, width, size, interpolation="bilinear", antialias=True):
    """torchvision's resized_crop: crop, then resize (on PIL images the same PIL filter as torchvision;
    on tensors Paddle does not antialias)."""
    interpolation = getattr(interpolation, "value", interpolation)
    if isinstance(interpolation, int):  # a PIL constant, which torchvision accepts too
        names = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
        interpolation = names[interpolation]
    crop = paddle.vision.transforms.functional.crop(img, top, left, height, width)
    return paddle.vision.transforms.functional.resize(crop, size, interpolation)
''', ()),
    "pad": ('''
@staticmethod
def pad(img, padding, fill=0, padding_mode="constant"):
    """torchvision's pad: on a PIL image a number fills every band and a list is taken as a tuple, as
    torchvision's fill parsing does (Paddle fills one band with a number and refuses a list)."""
    functional = paddle.vision.transforms.functional

    if not isinstance(img, paddle.Tensor) and padding_mode == "constant":
        bands = len(img.getbands())
        fill = 0 if fill is None else fill
        if isinstance(fill, (int, float)) and bands > 1:
            fill = tuple([fill] * bands)
        if isinstance(fill, (list, tuple)):
            if len(fill) == 1:
                fill = tuple(fill) * bands
            elif len(fill) != bands:
                raise ValueError("The number of elements in 'fill' does not match the number of channels "
                                 f"of the image ({len(fill)} != {bands})")
            fill = tuple(fill)
        if img.mode != "F":
            fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return functional.pad(img, padding, fill=fill, padding_mode=padding_mode)
''', ()),
    "RandomApply": ('''
class RandomApply(paddle.nn.Layer):
    """torchvision's RandomApply: the transforms in turn with probability p (a Layer, as torchvision's
    transforms are Modules)."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        import random

        if self.p < random.random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        lines = [f"    p={self.p}"] + [f"    {t}" for t in self.transforms]
        return self.__class__.__name__ + "(\\n" + "\\n".join(lines) + "\\n)"
''', ()),
    "_ImageSet": ('''
class _ImageSet(paddle.io.Dataset):
    """torchvision's image datasets' items: (PIL image, int target), each through its transform."""

    def __getitem__(self, index):
        import numpy as np
        from PIL import Image

        img, target = Image.fromarray(np.asarray(self.data[index])), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)
''', ()),
    "MNIST": ('''
class MNIST(_ImageSet):
    """torchvision's MNIST: the idx files under root/<class name>/raw, (PIL image, int) items, data and
    targets as uint8 and int64 tensors; download=True fetches torchvision's files with Paddle's downloader."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        import os

        super().__init__()
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.train, self.transform, self.target_transform = train, transform, target_transform
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        split = "train" if train else "t10k"
        self.data = paddle.to_tensor(self._read(f"{split}-images-idx3-ubyte", 3))
        self.targets = paddle.to_tensor(self._read(f"{split}-labels-idx1-ubyte", 1).astype("int64"))

    @property
    def raw_folder(self):
        import os

        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def _read(self, name, ndim):
        import os

        import numpy as np

        with open(os.path.join(self.raw_folder, name), "rb") as f:
            data = f.read()
        magic = int.from_bytes(data[0:4], "big")
        if magic // 256 != 8 or magic % 256 != ndim:
            raise ValueError(f"{name}: not an idx file of {ndim}-d uint8 data")
        shape = [int.from_bytes(data[4 * (i + 1): 4 * (i + 2)], "big") for i in range(ndim)]
        return np.frombuffer(data, dtype=np.uint8, offset=4 * (ndim + 1)).reshape(shape).copy()

    def _check_exists(self):
        import os

        return all(os.path.isfile(os.path.join(self.raw_folder, os.path.splitext(name)[0]))
                   for name, _ in self.resources)

    def download(self):
        import gzip
        import os
        import shutil

        get_path_from_url = paddle.utils.download.get_path_from_url

        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for name, md5 in self.resources:
            errors = []
            for mirror in self.mirrors:
                try:
                    path = get_path_from_url(mirror + name, self.raw_folder, md5, decompress=False)
                except Exception as e:  # the next mirror
                    errors.append(f"{mirror}: {e}")
                    continue
                with gzip.open(path, "rb") as src, open(os.path.splitext(path)[0], "wb") as dst:
                    shutil.copyfileobj(src, dst)
                break
            else:
                raise RuntimeError(f"Error downloading {name}: " + "; ".join(errors))

''', ("_ImageSet",)),
    "FashionMNIST": ('''
class FashionMNIST(MNIST):
    """torchvision's FashionMNIST: MNIST's reader over root/FashionMNIST/raw."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
''', ("MNIST",)),
    "KMNIST": ('''
class KMNIST(MNIST):
    """torchvision's KMNIST (Kuzushiji-MNIST): MNIST's reader over root/KMNIST/raw."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
                 ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
                 ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
                 ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134")]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
''', ("MNIST",)),
    "CIFAR10": ('''
class CIFAR10(_ImageSet):
    """torchvision's CIFAR10: the pickled batches under root/cifar-10-batches-py (md5-checked as
    torchvision does), (PIL image, int) items; download=True fetches and extracts torchvision's archive
    into root with Paddle's downloader."""

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        import os
        import pickle

        import numpy as np

        super().__init__()
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.train, self.transform, self.target_transform = train, transform, target_transform
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        data, self.targets = [], []
        for name, _ in self.train_list if train else self.test_list:
            with open(os.path.join(self.root, self.base_folder, name), "rb") as f:
                entry = pickle.load(f, encoding="latin1")
            data.append(entry["data"])
            self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        self.data = np.vstack(data).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not self._check_md5(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. "
                               "You can use download=True to download it")
        with open(path, "rb") as f:
            self.classes = pickle.load(f, encoding="latin1")[self.meta["key"]]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    @staticmethod
    def _check_md5(path, md5):
        import hashlib
        import os

        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            return hashlib.md5(f.read()).hexdigest() == md5

    def _check_integrity(self):
        import os

        return all(self._check_md5(os.path.join(self.root, self.base_folder, name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self):
        get_path_from_url = paddle.utils.download.get_path_from_url

        if not self._check_integrity():
            get_path_from_url(self.url, self.root, self.tgz_md5)

''', ("_ImageSet",)),
    "CIFAR100": ('''
class CIFAR100(CIFAR10):
    """torchvision's CIFAR100: CIFAR10's reader over root/cifar-100-python, fine labels."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
''', ("CIFAR10",)),
    "DataLoader": ('''
class DataLoader(paddle.io.DataLoader):
    """torch's DataLoader signature over Paddle's, for a class passed as a value or subclassed (calls made
    elsewhere keep torch's arguments) and for sampler=: its indices batched by a BatchSampler as torch
    batches them; pin_memory and torch's other CUDA/worker-start options have no Paddle counterpart."""

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if generator is not None:
            raise ValueError("generator=: Paddle's DataLoader takes none; seed with paddle.seed(...)")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last")
        kwargs = dict(num_workers=num_workers, collate_fn=collate_fn, timeout=timeout,
                      worker_init_fn=worker_init_fn, persistent_workers=persistent_workers)
        if prefetch_factor is not None:
            kwargs["prefetch_factor"] = prefetch_factor
        if sampler is not None:
            batch_sampler = paddle.io.BatchSampler(sampler=sampler, batch_size=batch_size,
                                                   drop_last=drop_last)
        if batch_sampler is not None:
            super().__init__(dataset, batch_sampler=batch_sampler, **kwargs)
        else:
            super().__init__(dataset, batch_size=batch_size, shuffle=bool(shuffle), drop_last=drop_last,
                             **kwargs)
        self.sampler = sampler if sampler is not None else getattr(self.batch_sampler, "sampler", None)
''', ()),
    "required": ('''
class required:
    """torch.optim.optimizer.required: the default of an optimizer argument a parameter group must give."""
''', ()),
    "Optimizer": ('''
class Optimizer:
    """torch.optim.Optimizer over Paddle tensors, for optimizers written as torch's are (a subclass
    with param_groups, self.state[p] and step under no_grad): groups from an iterable of tensors or
    of dicts with the defaults filled in, zero_grad, and state_dict/load_state_dict in torch's format
    (state keyed by parameter index). Paddle's LR schedulers and GradScaler do not drive it."""

    def __init__(self, params, defaults):
        import collections

        self.defaults = defaults
        self.state = collections.defaultdict(dict)
        self.param_groups = []
        if isinstance(params, paddle.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            f"dicts, but got {type(params).__name__}")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(dict(param_group))
        self.defaults.setdefault("differentiable", False)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)

    def __repr__(self):
        text = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\\nParameter Group {i}\\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\\n"
        return text + ")"

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, paddle.Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list "
                            "instead.")
        else:
            param_group["params"] = list(params)
        for param in param_group["params"]:
            if not isinstance(param, paddle.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{type(param).__name__}")
            if not self.defaults.get("differentiable", None) and not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is _paddleport_vision.required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required optimization parameter "
                                 f"{name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in param_group["params"]}) != len(param_group["params"]):
            import warnings

            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, "
                          "this will cause an error", stacklevel=3)
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.clear_gradient(not set_to_none)  # positional: Paddle ignores set_to_zero= by keyword

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} does not define step()")

    def state_dict(self):
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, paddle.Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        import collections
        import copy
        import itertools

        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(itertools.chain.from_iterable(g["params"] for g in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, key=None):
            if isinstance(value, paddle.Tensor):  # torch: floating state takes the param's dtype, not 'step'
                if key != "step" and param.is_floating_point() and value.dtype != param.dtype:
                    return value.astype(param.dtype)
                return value
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, key) for v in value)
            return value

        state = collections.defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                state[id_map[k]] = cast(id_map[k], v)
            else:
                state[k] = v
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
''', ("required",)),
    "_default_to_fused_or_foreach": ('''
@staticmethod
def _default_to_fused_or_foreach(params, differentiable, use_fused=False):
    """torch.optim.optimizer._default_to_fused_or_foreach: (fused, foreach) is (False, False) where torch has
    no multi-tensor kernels (CPU), as under Paddle, which has none."""
    return False, False
''', ()),
    "_get_capturable_supported_devices": ('''
@staticmethod
def _get_capturable_supported_devices(supports_xla=True):
    """torch.optim.optimizer._get_capturable_supported_devices: the device types where torch allows
    capturable=True."""
    return ["cuda", "xpu", "hpu", "privateuseone"] + (["xla"] if supports_xla else [])
''', ()),
    "solve_triangular": ('''
@staticmethod
def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    """torch.linalg.solve_triangular: X with A X = B (left) or X A = B; Paddle solves only from the left,
    so X A = B is solved as A^T X^T = B^T."""
    if out is not None:
        raise ValueError("out=: Paddle writes no output tensor; assign the result instead")
    if left:
        return paddle.linalg.triangular_solve(A, B, upper=upper, unitriangular=unitriangular)
    perm = list(range(B.ndim - 2)) + [B.ndim - 1, B.ndim - 2]
    X = paddle.linalg.triangular_solve(A, B.transpose(perm), upper=upper, transpose=True,
                                       unitriangular=unitriangular)
    return X.transpose(perm)
''', ()),
    "default_collate": ('''
@staticmethod
def default_collate(batch):
    """torch's default_collate: Paddle's collate, whose numbers and numpy arrays come back as numpy
    arrays, with those made tensors as torch makes them (ints int64, floats float64)."""
    import numpy as np

    def tensors(x):
        if isinstance(x, np.ndarray) and x.dtype.kind in "biufc":
            return paddle.to_tensor(x)
        if isinstance(x, dict):
            return {k: tensors(v) for k, v in x.items()}
        if isinstance(x, list):
            return [tensors(v) for v in x]
        return x

    return tensors(paddle.io.dataloader.collate.default_collate_fn(batch))
''', ()),
    "DistributedSampler": ('''
class DistributedSampler(paddle.io.Sampler):
    """torch's DistributedSampler: this rank's share of the indices, padded by repeating them (or cut,
    drop_last) to the same length on every rank; shuffled per epoch with seed + epoch by numpy, the same
    order on every rank (torch draws another permutation from the same seed)."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        import math

        if num_replicas is None:
            num_replicas = paddle.distributed.get_world_size()
        if rank is None:
            rank = paddle.distributed.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank, self.epoch = dataset, num_replicas, rank, 0
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        if drop_last and len(dataset) % num_replicas != 0:
            self.num_samples = math.ceil((len(dataset) - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(len(dataset) / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        import math

        import numpy as np

        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(len(self.dataset)).tolist()
        else:
            indices = list(range(len(self.dataset)))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / len(indices)))[:padding] if padding > 0 else []
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        self.epoch = epoch
''', ()),
    "tensor_type": ('''
@staticmethod
def tensor_type(x, *args, **kwargs):
    """torch's x.type(...) with arguments known only at run time: the type name without a dtype
    ('torch.FloatTensor'), else x cast to dtype (a dtype, or a name such as 'torch.LongTensor').
    Any other object's own type(...) is called as written."""
    if not isinstance(x, paddle.Tensor):
        return getattr(x, "type")(*args, **kwargs)  # spelled so that no converter pass takes it for torch's
    return _paddleport_vision._tensor_type(x, *args, **kwargs)
''', ("_tensor_type",)),
    "_tensor_type": ('''
@staticmethod
def _tensor_type(x, dtype=None, non_blocking=False, **kwargs):
    names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
             "bfloat16": "BFloat16Tensor", "uint8": "ByteTensor", "int8": "CharTensor",
             "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor"}
    if dtype is None:
        return "torch." + names[str(x.dtype).replace("paddle.", "")]
    if isinstance(dtype, str):
        dtype = {v: k for k, v in names.items()}.get(dtype.rsplit(".", 1)[-1], dtype)
    else:
        dtype = {v: k for k, v in names.items()}.get(getattr(dtype, "__name__", ""), dtype)
    return x.astype(dtype)
''', ()),
    "TreeSpec": ('''
class TreeSpec:
    """torch.utils._pytree's TreeSpec: a node's type, its context (dict keys, a defaultdict's factory, a
    deque's maxlen) and its children's specs; a leaf's type is None."""

    def __init__(self, type, context, children_specs):
        self.type, self.context, self.children_specs = type, context, list(children_specs)
        self.num_children = len(self.children_specs)
        self.num_leaves = 1 if type is None else sum(c.num_leaves for c in self.children_specs)
        self.num_nodes = 1 + sum(c.num_nodes for c in self.children_specs)

    def is_leaf(self):
        return self.type is None

    def __eq__(self, other):
        return (isinstance(other, _paddleport_vision.TreeSpec) and self.type is other.type
                and self.context == other.context and self.children_specs == other.children_specs)

    def __hash__(self):
        return hash((self.type, repr(self.context), tuple(self.children_specs)))

    def __repr__(self):
        if self.type is None:
            return "*"
        name = "namedtuple" if _paddleport_vision._is_namedtuple(self.type) else self.type.__name__
        return f"TreeSpec({name}, {self.context!r}, [{', '.join(map(repr, self.children_specs))}])"

    def unflatten(self, leaves):
        return _paddleport_vision.tree_unflatten(leaves, self)

    def flatten_up_to(self, tree):
        """The subtrees of tree at this spec's leaves (tree may go deeper there)."""
        out = []
        stack = [(self, tree)]
        while stack:
            spec, node = stack.pop()
            if spec.type is None:
                out.append(node)
                continue
            if type(node) is not spec.type:
                raise ValueError(f"Node type mismatch; expected {spec.type}, but got {type(node)}.")
            _, context, children = _paddleport_vision._tree_node(node)
            keys = _paddleport_vision._tree_keys(spec.type, spec.context)
            if keys is not None:  # a dict's children in the spec's key order
                if set(keys) != set(_paddleport_vision._tree_keys(spec.type, context)):
                    raise ValueError(f"Node keys mismatch; expected {keys}, but got {list(node)}.")
                children = [node[k] for k in keys]
            elif len(children) != spec.num_children:
                raise ValueError(f"Node arity mismatch; expected {spec.num_children}, "
                                 f"but got {len(children)}.")
            stack.extend(reversed(list(zip(spec.children_specs, children))))
        return out
''', ("_tree_node", "tree_unflatten")),
    "_tree_node": ('''
@staticmethod
def _collections():
    import collections

    return collections

@staticmethod
def _is_namedtuple(cls):
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")

@staticmethod
def _tree_node(node, is_leaf=None):
    """(type, context, children) of a container torch's pytree flattens, None for a leaf: list, tuple,
    namedtuple, dict, OrderedDict, defaultdict and deque, by exact type as torch checks (None is a leaf)."""
    collections = _paddleport_vision._collections()
    if is_leaf is not None and is_leaf(node):
        return None
    kind = type(node)
    if kind is list or kind is tuple:
        return kind, None, list(node)
    if _paddleport_vision._is_namedtuple(kind):
        return kind, kind, list(node)
    if kind is dict or kind is collections.OrderedDict:
        return kind, list(node), [node[k] for k in node]
    if kind is collections.defaultdict:
        return kind, (node.default_factory, list(node)), [node[k] for k in node]
    if kind is collections.deque:
        return kind, node.maxlen, list(node)
    return None

@staticmethod
def _tree_keys(kind, context):
    """A dict node's keys (from its context), None for other nodes."""
    collections = _paddleport_vision._collections()
    if kind is collections.defaultdict:
        return context[1]
    return context if kind is dict or kind is collections.OrderedDict else None

@staticmethod
def _tree_build(kind, context, children):
    collections = _paddleport_vision._collections()
    if kind is list:
        return list(children)
    if kind is tuple:
        return tuple(children)
    if _paddleport_vision._is_namedtuple(kind):
        return kind(*children)
    if kind is dict or kind is collections.OrderedDict:
        return kind(zip(context, children))
    if kind is collections.defaultdict:
        return kind(context[0], zip(context[1], children))
    return kind(children, maxlen=context)
''', ("TreeSpec",)),
    "tree_flatten": ('''
@staticmethod
def tree_flatten(tree, is_leaf=None):
    """torch.utils._pytree.tree_flatten: the leaves in order, and the structure (a TreeSpec)."""
    leaves = []

    def walk(node):
        found = _paddleport_vision._tree_node(node, is_leaf)
        if found is None:
            leaves.append(node)
            return _paddleport_vision.TreeSpec(None, None, [])
        kind, context, children = found
        return _paddleport_vision.TreeSpec(kind, context, [walk(c) for c in children])

    spec = walk(tree)
    return leaves, spec
''', ("_tree_node",)),
    "tree_unflatten": ('''
@staticmethod
def tree_unflatten(leaves, treespec):
    """torch.utils._pytree.tree_unflatten: the structure of treespec rebuilt around leaves."""
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
                         f"to a pytree that holds {treespec.num_leaves} items ({treespec}).")
    it = iter(leaves)

    def build(spec):
        if spec.type is None:
            return next(it)
        children = [build(c) for c in spec.children_specs]
        return _paddleport_vision._tree_build(spec.type, spec.context, children)

    return build(treespec)
''', ("_tree_node",)),
    "tree_leaves": ('''
@staticmethod
def tree_leaves(tree, is_leaf=None):
    """torch.utils._pytree.tree_leaves."""
    return _paddleport_vision.tree_flatten(tree, is_leaf)[0]
''', ("tree_flatten",)),
    "tree_structure": ('''
@staticmethod
def tree_structure(tree, is_leaf=None):
    """torch.utils._pytree.tree_structure."""
    return _paddleport_vision.tree_flatten(tree, is_leaf)[1]
''', ("tree_flatten",)),
    "tree_all": ('''
@staticmethod
def tree_all(pred, tree, is_leaf=None):
    """torch.utils._pytree.tree_all: pred holds for every leaf."""
    return all(map(pred, _paddleport_vision.tree_flatten(tree, is_leaf)[0]))
''', ("tree_flatten",)),
    "tree_any": ('''
@staticmethod
def tree_any(pred, tree, is_leaf=None):
    """torch.utils._pytree.tree_any: pred holds for some leaf."""
    return any(map(pred, _paddleport_vision.tree_flatten(tree, is_leaf)[0]))
''', ("tree_flatten",)),
    "tree_map": ('''
@staticmethod
def tree_map(func, tree, *rests, is_leaf=None):
    """torch.utils._pytree.tree_map: func over the leaves of tree (and the same places of rests)."""
    leaves, spec = _paddleport_vision.tree_flatten(tree, is_leaf)
    flat = [leaves] + [spec.flatten_up_to(r) for r in rests]
    return spec.unflatten(map(func, *flat))
''', ("tree_flatten", "tree_unflatten")),
    "tree_map_only": ('''
@staticmethod
def tree_map_only(type_or_types_or_pred, func, tree, is_leaf=None):
    """torch.utils._pytree.tree_map_only: func over the leaves of a type (or passing a predicate)."""
    import types

    if isinstance(type_or_types_or_pred, (type, tuple, types.UnionType)):
        def wanted(x):
            return isinstance(x, type_or_types_or_pred)
    elif callable(type_or_types_or_pred):
        wanted = type_or_types_or_pred
    else:
        raise TypeError("Argument must be a type, a tuple of types, or a callable.")
    return _paddleport_vision.tree_map(lambda x: func(x) if wanted(x) else x, tree, is_leaf=is_leaf)
''', ("tree_map",)),
    "vmap": ('''
@staticmethod
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """torch.func.vmap as a loop: each argument's batch axis (in_dims: an int or None for every tensor of an
    argument, per positional argument or nested like it) is sliced, func runs on each slice, and each output
    tensor is stacked along out_dims. Random calls inside draw per sample (torch's randomness='different')."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")
    tree = _paddleport_vision

    def per_leaf(dims, value, what):  # dims broadcast over value's leaves (dims may be nested like value)
        def fill(d, sub):
            if d is not None and not isinstance(d, int):
                raise ValueError(f"vmap: {what} must be an int, None or a pytree of them, got {d!r}")
            return tree.tree_map(lambda _: d, sub)
        return tree.tree_leaves(tree.tree_map(fill, dims, value))

    def batched(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims is not compatible with the structure of inputs: expected "
                             f"{len(dims)} inputs, got {len(args)}")
        leaves, spec = tree.tree_flatten(list(args))
        leaf_dims = [d for dim, arg in zip(dims, args) for d in per_leaf(dim, arg, "in_dims")]
        size, slices = None, []
        for leaf, d in zip(leaves, leaf_dims):
            if d is None:
                slices.append(None)
                continue
            if not isinstance(leaf, paddle.Tensor):
                raise ValueError(f"vmap: Got in_dim={d} for an input but the input is of type {type(leaf)}. "
                                 "We cannot vmap over non-Tensor arguments")
            if size is not None and leaf.shape[d] != size:
                raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, "
                                 f"got sizes {size} and {leaf.shape[d]}")
            size = leaf.shape[d]
            slices.append(paddle.unbind(leaf, axis=d))
        if size is None:
            raise ValueError("vmap: at least one input must be a Tensor batched along an in_dim")
        results = []
        for i in range(size):
            sample = [leaf if s is None else s[i] for leaf, s in zip(leaves, slices)]
            results.append(func(*tree.tree_unflatten(sample, spec), **kwargs))
        flat, out_spec = tree.tree_flatten(results[0])
        flats = [flat] + [out_spec.flatten_up_to(r) for r in results[1:]]
        stacked = []
        for j, d in enumerate(per_leaf(out_dims, results[0], "out_dims")):
            if d is None:
                stacked.append(flat[j])
                continue
            column = [f[j] for f in flats]
            if not all(isinstance(t, paddle.Tensor) for t in column):
                raise ValueError(f"vmap: `{getattr(func, '__name__', func)}` must only return Tensors, "
                                 f"got type {type(column[0])}")
            stacked.append(paddle.stack(column, axis=d))
        return out_spec.unflatten(stacked)

    return batched
''', ("tree_map", "tree_leaves")),
    "grad_and_value": ('''
@staticmethod
def grad_and_value(func, argnums=0, has_aux=False):
    """torch.func.grad_and_value with paddle.grad: the tensors at argnums (pytrees of them too) go in as
    new graph inputs, and the gradient keeps its graph (create_graph) so that it composes (vmap, grad of
    grad, a loss built on it); an input func does not use gets zeros, as torch gives."""
    tree = _paddleport_vision

    def wrapper(*args, **kwargs):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        args, inputs, specs = list(args), [], []
        for n in nums:
            leaves, spec = tree.tree_flatten(args[n])
            fresh = []
            for leaf in leaves:
                if not isinstance(leaf, paddle.Tensor):
                    raise RuntimeError(f"grad: Expected all inputs to be Tensors, got {type(leaf)}")
                x = leaf.detach() if leaf.stop_gradient else leaf.clone()  # a clone stays on an outer graph
                x.stop_gradient = False
                fresh.append(x)
            args[n] = spec.unflatten(fresh)
            inputs.append(fresh)
            specs.append(spec)
        with paddle.enable_grad():
            output = func(*args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                       "(output, aux) if has_aux is True")
                output, aux = output
            if not isinstance(output, paddle.Tensor) or output.ndim != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                                   f"got {getattr(output, 'ndim', type(output))} dims")
            flat = [x for fresh in inputs for x in fresh]
            if flat and not output.stop_gradient:
                grads = paddle.grad(output, flat, create_graph=True, allow_unused=True)
            else:  # output does not depend on the inputs
                grads = [None] * len(flat)
        grads = [paddle.zeros_like(x) if g is None else g for x, g in zip(flat, grads)]
        out, start = [], 0
        for fresh, spec in zip(inputs, specs):
            out.append(spec.unflatten(grads[start:start + len(fresh)]))
            start += len(fresh)
        gradient = out[0] if isinstance(argnums, int) else tuple(out)
        return gradient, ((output, aux) if has_aux else output)

    return wrapper
''', ("tree_flatten", "tree_unflatten")),
    "grad": ('''
@staticmethod
def grad(func, argnums=0, has_aux=False):
    """torch.func.grad: grad_and_value's gradient (and aux with has_aux)."""
    inner = _paddleport_vision.grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        gradient, value = inner(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper
''', ("grad_and_value",)),
    "functional_call": ('''
@staticmethod
def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """torch.func.functional_call: the layer called with the given tensors in place of its parameters and
    buffers (by their state_dict names), put back afterwards even if the call raises. With tie_weights a
    tensor given for one name of a shared parameter is used for all its names, as torch does."""
    dicts = [parameter_and_buffer_dicts] if isinstance(parameter_and_buffer_dicts, dict) \\
        else list(parameter_and_buffer_dicts)
    values = {}
    for d in dicts:
        for name, value in d.items():
            if name in values:
                raise ValueError(f"{name} appeared in multiple dictionaries; behavior of functional call is "
                                 "ambiguous")
            values[name] = value
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    slots, stack = {}, [("", module)]  # every name of every parameter/buffer, shared ones included
    while stack:
        prefix, layer = stack.pop()
        for table in (layer._parameters, layer._buffers):
            for key, tensor in table.items():
                if tensor is not None:
                    slots[prefix + key] = (table, key, tensor)
        stack.extend((f"{prefix}{name}.", sub) for name, sub in layer._sub_layers.items() if sub is not None)
    chosen = {}  # full name -> new tensor
    for name, value in values.items():
        if name not in slots:
            continue
        tied = [n for n, s in slots.items() if s[2] is slots[name][2]] if tie_weights else [name]
        for other in tied:
            if other in values and values[other] is not value:
                keys = sorted({name, other})
                raise ValueError(f"functional_call got multiple values for keys {keys}, which are tied. "
                                 "Consider using tie_weights=False")
            chosen[other] = value
    if strict:
        missing = sorted(set(slots) - set(chosen))
        unexpected = sorted(set(values) - set(slots))
        if missing or unexpected:
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}: "
                               f"Unexpected key(s): {unexpected}. Missing key(s): {missing}.")
    saved, added, missing = [], [], object()
    try:
        for name, value in chosen.items():
            table, key, original = slots[name]
            saved.append((table, key, original))
            table[key] = value
        for name in sorted(set(values) - set(slots)):  # not a parameter or buffer: an attribute for the call
            owner, _, attr = name.rpartition(".")
            target = module
            for part in owner.split(".") if owner else []:
                target = getattr(target, part)
            added.append((target, attr, target.__dict__.get(attr, missing)))
            object.__setattr__(target, attr, values[name])
        return module(*args, **(kwargs or {}))
    finally:
        for table, key, original in reversed(saved):
            table[key] = original
        for target, attr, old in reversed(added):
            if old is missing:
                object.__delattr__(target, attr)
            else:
                object.__setattr__(target, attr, old)
''', ()),
}

_HEAD = f'''class {VISION}:
    """torch and torchvision behaviour Paddle has no expression for (generated by paddleport)."""
'''


def _with_callees(members: set[str]) -> set[str]:
    """``members`` and what they call, and what that calls (FashionMNIST → MNIST → _ImageSet)."""
    wanted, todo = set(members), list(members)
    while todo:
        for need in MEMBERS[todo.pop()][1]:
            if need not in wanted:
                wanted.add(need)
                todo.append(need)
    return wanted


def _member_sources(wanted: set[str]) -> str:
    """The sources of ``wanted``, indented as class members, in a fixed order."""
    parts = []
    for name, (source, _) in MEMBERS.items():
        if name in wanted:
            lines = source.strip("\n").split("\n")
            parts.append("\n" + "\n".join(f"    {ln}" if ln else "" for ln in lines) + "\n")
    return "".join(parts)


def vision_source(members: set[str]) -> str:
    """The helper class with ``members`` and what they call, in a fixed order."""
    return _HEAD + _member_sources(_with_callees(members))


def _members_insertion(text: str, cls: ast.ClassDef, used: set[str]) -> tuple[int, str] | None:
    """Where and what to add at the end of ``cls`` so that it holds ``used`` and what they call;
    None when it holds them all."""
    defined = {s.name for s in cls.body if isinstance(s, (ast.FunctionDef, ast.ClassDef))}
    missing = {m for m in _with_callees(used) if m not in defined}
    if not missing:
        return None
    end = cls.end_lineno or cls.lineno
    src = SourceText(text)
    offset = src.line_starts[end] if end < len(src.line_starts) else len(text)
    prefix = "" if text[:offset].endswith("\n") else "\n"
    return offset, prefix + _member_sources(missing)


def add_helpers(code: str) -> str:
    """Define the helpers the converted code calls and does not define yet."""
    used = set(re.findall(rf"\b{VISION}\.(\w+)", code)) & MEMBERS.keys()
    if not used:
        return code
    cls = defined_class(code, VISION)
    if cls is None:
        return add_class(code, VISION, lambda: vision_source(used))
    extra = _members_insertion(code, cls, used)
    return code if extra is None else apply_edits(code, [TextEdit(extra[0], extra[0], extra[1])])


def helper_insertion(text: str, replacement: str, tree: ast.Module | None = None) -> tuple[int, str] | None:
    """Where and what to insert into ``text`` so that ``replacement`` (one use's new text, applied
    alone by a quick fix) finds the helpers it calls; None when it calls none or they are there.
    ``tree``: ``text`` parsed, when the caller has it."""
    used = set(re.findall(rf"\b{VISION}\.(\w+)", replacement)) & MEMBERS.keys()
    if not used:
        return None
    cls = defined_class(text, VISION, tree)
    if cls is None:
        return class_insertion(text, VISION, vision_source(used), tree)
    return _members_insertion(text, cls, used)


def dispatches(replacement: str) -> bool:
    """The replacement is one call of a :data:`DISPATCHING` helper (over the original's text)."""
    found = re.match(rf"{VISION}\.(\w+)\(", replacement)
    return found is not None and found.group(1) in DISPATCHING and replacement.endswith(")")
