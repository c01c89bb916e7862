"""Transforms for torch.Tensor methods and attributes."""

from __future__ import annotations

from paddleport.rewrite.transforms import TransformInput, transform  # noqa: F401
