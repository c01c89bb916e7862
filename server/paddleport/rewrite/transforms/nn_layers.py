"""Transforms for torch.nn layers."""

from __future__ import annotations

from paddleport.rewrite.transforms import TransformInput, transform  # noqa: F401
