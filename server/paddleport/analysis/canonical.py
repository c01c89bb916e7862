"""Canonical torch names: many spellings, one rule id.

Rules list their own aliases (``torch.arccos`` → ``torch.acos``); this module
handles the spellings that follow a pattern, such as implementation modules
(``torch.nn.modules.linear.Linear`` → ``torch.nn.Linear``).
"""

from __future__ import annotations

import functools
import re

# (pattern, replacement) applied in order; the first that matches wins.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^torch\.nn\.modules\.[a-z_]+\.(\w+)"), r"torch.nn.\1"),
    (re.compile(r"^torch\.nn\.modules\.(\w+)$"), r"torch.nn.\1"),
    (re.compile(r"^torch\.nn\.parameter\.(\w+)"), r"torch.nn.\1"),
    (re.compile(r"^torch\.optim\.(?!lr_scheduler)[a-z_]+\.([A-Z]\w+)"), r"torch.optim.\1"),
    (re.compile(r"^torch\.utils\.data\.(?:dataloader|dataset|sampler|distributed)\.(\w+)"),
     r"torch.utils.data.\1"),
    (re.compile(r"^torch\.functional\.(\w+)"), r"torch.\1"),
    (re.compile(r"^torch\._C\._?TensorBase\.(\w+)"), r"torch.Tensor.\1"),
    (re.compile(r"^torch\._tensor\.Tensor\b"), "torch.Tensor"),
    (re.compile(r"^torch\.torch\.(\w+)"), r"torch.\1"),  # torch re-exports itself: torch.torch.int32
]  # fmt: skip


@functools.lru_cache(maxsize=65536)
def canonical(name: str) -> str:
    for pattern, repl in _PATTERNS:
        if pattern.match(name):
            return pattern.sub(repl, name, count=1)
    return name
