"""Transforms for torch.nn.functional and torch.nn.init."""

from __future__ import annotations

from paddleport.rewrite.transforms import TransformInput, transform  # noqa: F401
