"""Transforms for torch.distributed collectives.

Paddle's collectives need the global group that ``paddle.distributed.init_parallel_env()``
creates only when a launcher started several processes; in one process they raise. With one
process every collective computes nothing (a sum, mean, max of one tensor is the tensor), so
the converted call runs only when a group exists.
"""

from __future__ import annotations

import libcst as cst

from paddleport.rewrite.arguments import code_of
from paddleport.rewrite.transforms import TransformInput, transform


@transform
def when_initialized(t: TransformInput) -> cst.BaseExpression:
    """``dist.barrier()`` →
    ``(paddle.distributed.barrier() if paddle.distributed.is_initialized() else None)``.

    The call is the rule's mapping; only the guard is added.
    """
    return cst.parse_expression(f"({code_of(t.mapped)} if paddle.distributed.is_initialized() else None)")
