"""Seeded input data and parameters that are identical under torch and paddle.

Used where a framework is loaded (rule-example workers and the equivalence
kernel): ``randn(2, 3)`` gives the same numbers on both sides, as a tensor of
that side's framework, so results can be compared value for value.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import numpy as np

# torch buffer/parameter names that paddle spells differently
PADDLE_TO_TORCH_NAMES = {"_mean": "running_mean", "_variance": "running_var"}


class DataMaker:
    """Makes tensors for one framework from one seeded generator."""

    def __init__(self, framework: str, seed: int = 0) -> None:
        self.framework = framework
        self.rng = np.random.default_rng(seed)
        if framework == "torch":
            import torch

            self._to: Callable[[np.ndarray], Any] = torch.from_numpy
        else:
            import paddle

            self._to = paddle.to_tensor

    def tensor(self, data: Any, dtype: str | None = None) -> Any:
        arr = np.asarray(data)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        return self._to(np.array(arr, order="C"))

    def randn(self, *shape: int, dtype: str = "float32") -> Any:
        return self.tensor(self.rng.standard_normal(shape).astype(dtype))

    def rand(self, *shape: int, dtype: str = "float32") -> Any:
        return self.tensor(self.rng.random(shape).astype(dtype))

    def randint(self, low: int, high: int, *shape: int, dtype: str = "int64") -> Any:
        return self.tensor(self.rng.integers(low, high, size=shape).astype(dtype))

    def arange(self, *args: float, dtype: str = "float32") -> Any:
        return self.tensor(np.arange(*args).astype(dtype))

    def zeros(self, *shape: int, dtype: str = "float32") -> Any:
        return self.tensor(np.zeros(shape, dtype=dtype))

    def ones(self, *shape: int, dtype: str = "float32") -> Any:
        return self.tensor(np.ones(shape, dtype=dtype))

    def full(self, shape: tuple[int, ...] | list[int], value: float, dtype: str = "float32") -> Any:
        return self.tensor(np.full(tuple(shape), value, dtype=dtype))

    def namespace(self) -> dict[str, Any]:
        """The helper names an example or ``--example`` call may use."""
        return {
            "np": np,
            "randn": self.randn,
            "rand": self.rand,
            "randint": self.randint,
            "arange": self.arange,
            "zeros": self.zeros,
            "ones": self.ones,
            "full": self.full,
            "tensor": self.tensor,
            "init": self.init,
        }

    def init(self, module: Any) -> Any:
        """Give every parameter and buffer values derived from its torch name and torch layout."""
        for name, value, transpose in _named_state(module, self.framework):
            torch_shape = tuple(value.shape)[::-1] if transpose else tuple(value.shape)
            arr = _values_for(name, torch_shape, str(value.dtype))
            if transpose:
                arr = arr.T
            _assign(value, arr, self.framework)
        return module


def _values_for(name: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    if "int" in dtype:
        return rng.integers(0, 3, size=shape).astype(np.int64)
    arr: np.ndarray = rng.uniform(-0.5, 0.5, size=shape).astype(np.float32)
    if name.endswith(("running_var", "weight_var")):
        arr = np.abs(arr) + 0.5
    return arr


def _named_state(module: Any, framework: str) -> list[tuple[str, Any, bool]]:
    """(torch-style name, tensor, stored transposed relative to torch) for params and buffers."""
    out: list[tuple[str, Any, bool]] = []
    if framework == "torch":
        for name, p in [*module.named_parameters(), *module.named_buffers()]:
            out.append((name, p, False))
        return out
    import paddle

    layers = dict(module.named_sublayers(include_self=True))
    for name, p in [*module.named_parameters(), *module.named_buffers()]:
        prefix, _, leaf = name.rpartition(".")
        owner = layers.get(prefix)
        transpose = isinstance(owner, paddle.nn.Linear) and leaf == "weight" and len(p.shape) == 2
        leaf = PADDLE_TO_TORCH_NAMES.get(leaf, leaf)
        out.append((f"{prefix}.{leaf}" if prefix else leaf, p, transpose))
    return out


def _assign(value: Any, arr: np.ndarray, framework: str) -> None:
    if framework == "torch":
        import torch

        with torch.no_grad():
            value.copy_(torch.from_numpy(np.array(arr, order="C")).to(value.dtype))
    else:
        import paddle

        value.set_value(paddle.to_tensor(np.array(arr, order="C")).astype(value.dtype))
