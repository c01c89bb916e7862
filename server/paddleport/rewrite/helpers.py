"""Small definitions a conversion writes into the converted file, once, after its imports.

Some torchvision behaviour has no Paddle expression: torchvision's datasets give
``(image, int)`` items and read a ``root`` folder, Paddle's give ``(image,
int64 array of shape [1])`` and take file paths; Paddle has no ``box_iou`` or
``make_grid``. A rule's transform then calls a helper
(``_paddleport_vision.mnist(...)``) and this module adds a class holding the
helpers the file calls (and those they call), the way ``dynamic.add_namespaces``
adds runtime lookup maps. The helpers are verified by the rules' examples.
"""

from __future__ import annotations

import ast
import re

from paddleport.rewrite.dynamic import place_block

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
    "mnist": ('''
@staticmethod
def mnist(dataset, folder, root, train=True, transform=None, target_transform=None, download=False):
    """torchvision's MNIST-style dataset: the idx files it keeps under root/<folder>/raw."""
    import os

    split = "train" if train else "t10k"
    raw = os.path.join(root, folder, "raw")
    images = os.path.join(raw, f"{split}-images-idx3-ubyte.gz")
    labels = os.path.join(raw, f"{split}-labels-idx1-ubyte.gz")
    if download and not (os.path.exists(images) and os.path.exists(labels)):
        images = labels = None  # Paddle downloads the same files into its own cache
    data = dataset(images, labels, "train" if train else "test", transform, download, "pil")
    return _paddleport_vision.Labels(data, target_transform)
''', ("Labels",)),
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
}

_HEAD = f'''class {VISION}:
    """torchvision behaviour paddle.vision lacks (generated by paddleport)."""
'''


def vision_source(members: set[str]) -> str:
    """The helper class with ``members`` and what they call, in a fixed order."""
    wanted = set(members)
    for name in members:
        wanted.update(MEMBERS[name][1])
    parts = [_HEAD]
    for name, (source, _) in MEMBERS.items():
        if name in wanted:
            lines = source.strip("\n").split("\n")
            parts.append("\n" + "\n".join(f"    {ln}" if ln else "" for ln in lines) + "\n")
    return "".join(parts)


def add_helpers(code: str) -> str:
    """Define the helpers the converted code calls and does not define yet."""
    used = set(re.findall(rf"\b{VISION}\.(\w+)", code)) & MEMBERS.keys()
    if not used:
        return code
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if any(isinstance(s, ast.ClassDef) and s.name == VISION for s in tree.body):
        return code
    return place_block(code, tree, {VISION}, vision_source(used))


def helper_insertion(text: str, replacement: str) -> tuple[int, str] | None:
    """Where and what to insert into ``text`` so that ``replacement`` (one use's new text, applied
    alone by a quick fix) finds the helpers it calls; None when it calls none or they are there."""
    used = set(re.findall(rf"\b{VISION}\.(\w+)", replacement)) & MEMBERS.keys()
    if not used or re.search(rf"^class {VISION}\b", text, re.M):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    new = place_block(text, tree, {VISION}, vision_source(used))
    start = 0
    while start < len(text) and text[start] == new[start]:
        start += 1
    return start, new[start : start + len(new) - len(text)]


def dispatches(replacement: str) -> bool:
    """The replacement is one call of a :data:`DISPATCHING` helper (over the original's text)."""
    found = re.match(rf"{VISION}\.(\w+)\(", replacement)
    return found is not None and found.group(1) in DISPATCHING and replacement.endswith(")")
