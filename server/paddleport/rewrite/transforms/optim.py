"""Transforms for torch.optim, lr_scheduler, utils.data, amp and the rest of the non-core namespaces."""

from __future__ import annotations

from paddleport.rewrite.transforms import TransformInput, transform  # noqa: F401
