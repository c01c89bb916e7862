"""Framework-neutral results and their comparison.

Both sides turn their outputs into plain trees (numpy arrays, numbers, lists,
dicts) with ``to_plain``; ``compare`` walks two trees leaf by leaf. Only numpy
is needed here, so the comparison can run in a process without torch or paddle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Leaf:
    """One compared output: a tensor, a number, or anything else by equality."""

    path: str
    ok: bool
    shape: tuple[int, ...] | None = None
    dtype: str | None = None
    max_abs: float | None = None
    max_rel: float | None = None
    detail: str = ""

    def describe(self) -> str:
        parts = [self.path or "out"]
        if self.shape is not None:
            parts.append(f"shape={list(self.shape)} dtype={self.dtype}")
        if self.max_abs is not None:
            parts.append(f"max_abs={self.max_abs:.3g} max_rel={self.max_rel:.3g}")
        if self.detail:
            parts.append(self.detail)
        return ("ok   " if self.ok else "FAIL ") + " ".join(parts)


def _dtype_name(dtype: Any) -> str:
    text = str(dtype)
    for prefix in ("torch.", "paddle.", "VarType."):
        text = text.replace(prefix, "")
    aliases = {"float": "float32", "double": "float64", "long": "int64", "int": "int32",
               "half": "float16", "fp32": "float32", "fp64": "float64"}  # fmt: skip
    return aliases.get(text, text)


def to_plain(value: Any, depth: int = 0) -> Any:
    """Tensors to ``("tensor", array, dtype)``, containers recursively, the rest as is."""
    if depth > 20:
        return repr(value)
    mod = type(value).__module__ or ""
    if mod.startswith(("torch", "paddle")):
        if hasattr(value, "numpy") and hasattr(value, "shape") and hasattr(value, "dtype"):
            data = value.detach() if hasattr(value, "detach") else value
            if mod.startswith("torch") and str(value.dtype) == "torch.bfloat16":
                data = data.float()
            # a copy: torch's numpy() shares memory, and a later in-place op (ReLU(inplace=True))
            # would change what was recorded
            arr = np.array(data.cpu().numpy() if hasattr(data, "cpu") else data.numpy(), copy=True)
            return ("tensor", arr, _dtype_name(value.dtype))
        if type(value).__name__ in ("Size",):
            return [int(v) for v in value]
        if type(value).__name__ in ("dtype", "VarType", "DataType"):
            return ("dtype", _dtype_name(value))
    if isinstance(value, np.ndarray):
        return ("tensor", value, _dtype_name(value.dtype))
    if mod.startswith("PIL.") and hasattr(value, "getbands"):  # an image: its pixels, as HWC
        arr = np.asarray(value)
        return ("tensor", arr, _dtype_name(arr.dtype))
    if isinstance(value, (bool, int, float, complex, str, type(None), np.generic)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, dict):
        return {str(k): to_plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v, depth + 1) for v in value]
    return ("repr", repr(value))


def compare(expected: Any, actual: Any, *, rtol: float = 1e-5, atol: float = 1e-6,
            mode: str = "values", path: str = "") -> list[Leaf]:  # fmt: skip
    """Compare torch's plain result (expected) with paddle's (actual), leaf by leaf."""
    if mode == "runs":
        return [Leaf(path, True, detail="ran on both sides")]
    if _is_tensor(expected) or _is_tensor(actual):
        return [_compare_tensor(expected, actual, rtol, atol, mode, path)]
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [Leaf(path, False, detail=f"keys differ: {sorted(expected)} vs {sorted(actual)}")]
        return [
            leaf
            for k in expected
            for leaf in compare(
                expected[k], actual[k], rtol=rtol, atol=atol, mode=mode, path=f"{path}[{k!r}]"
            )
        ]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [Leaf(path, False, detail=f"length {len(expected)} vs {len(actual)}")]
        return [leaf for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for leaf in
                compare(e, a, rtol=rtol, atol=atol, mode=mode, path=f"{path}[{i}]")]  # fmt: skip
    if (
        isinstance(expected, (int, float))
        and isinstance(actual, (int, float))
        and not (isinstance(expected, bool) or isinstance(actual, bool))
    ):
        if mode == "shape":
            return [Leaf(path, True, detail="number (shape mode)")]
        diff = abs(float(expected) - float(actual))
        ok = bool(np.isclose(float(actual), float(expected), rtol=rtol, atol=atol, equal_nan=True))
        return [Leaf(path, ok, max_abs=diff, max_rel=diff / max(abs(float(expected)), 1e-30),
                     detail="" if ok else f"{expected!r} vs {actual!r}")]  # fmt: skip
    ok = expected == actual
    return [Leaf(path, bool(ok), detail="" if ok else f"{_show(expected)} vs {_show(actual)}")]


def _is_tensor(v: Any) -> bool:
    return isinstance(v, tuple) and len(v) == 3 and v[0] == "tensor"


def _show(v: Any) -> str:
    text = repr(v)
    return text if len(text) < 80 else text[:77] + "..."


def _compare_tensor(expected: Any, actual: Any, rtol: float, atol: float, mode: str,
                    path: str) -> Leaf:  # fmt: skip
    if not (_is_tensor(expected) and _is_tensor(actual)):
        return Leaf(path, False, detail=f"{_show(expected)} vs {_show(actual)}")
    _, e, e_dtype = expected
    _, a, a_dtype = actual
    shape = tuple(e.shape)
    if tuple(a.shape) != shape:
        return Leaf(path, False, shape, e_dtype, detail=f"shape {list(shape)} vs {list(a.shape)}")
    if e_dtype != a_dtype:
        return Leaf(path, False, shape, e_dtype, detail=f"dtype {e_dtype} vs {a_dtype}")
    if mode == "shape" or e.size == 0:
        return Leaf(path, True, shape, e_dtype)
    if e.dtype == np.bool_ or a.dtype == np.bool_:
        ok = bool(np.array_equal(e, a))
        return Leaf(path, ok, shape, e_dtype, 0.0 if ok else 1.0, 0.0 if ok else 1.0)
    ef, af = e.astype(np.float64), a.astype(np.float64)
    diff = np.abs(ef - af)
    both_nan = np.isnan(ef) & np.isnan(af)
    diff = np.where(both_nan, 0.0, diff)
    max_abs = float(np.nanmax(diff)) if diff.size else 0.0
    rel = diff / np.maximum(np.abs(ef), 1e-30)
    max_rel = float(np.nanmax(np.where(diff == 0, 0.0, rel))) if diff.size else 0.0
    ok = bool(np.allclose(af, ef, rtol=rtol, atol=atol, equal_nan=True))
    return Leaf(path, ok, shape, e_dtype, max_abs, max_rel)
