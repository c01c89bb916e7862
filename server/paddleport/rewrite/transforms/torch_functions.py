"""Transforms for top-level torch functions."""

from __future__ import annotations

from paddleport.rewrite.transforms import TransformInput, transform  # noqa: F401
