"""torch.distributed: single-process semantics of the converted collectives, as text."""

from __future__ import annotations

import pytest

from paddleport.rewrite.fixes import Planner
from tests.conftest import last_line_converted

HEAD = "import torch\nimport torch.distributed as dist\nt = torch.zeros(3)\n"
GUARD = "if paddle.distributed.is_initialized() else None)"


@pytest.mark.parametrize(("before", "after"), [
    # collectives run only when Paddle built a group (a launcher started several processes)
    ("dist.all_reduce(t, op=dist.ReduceOp.AVG)",
     f"(paddle.distributed.all_reduce(t, op=paddle.distributed.ReduceOp.AVG) {GUARD}"),
    ("dist.all_reduce(t, dist.ReduceOp.PRODUCT, async_op=False)",
     f"(paddle.distributed.all_reduce(t, paddle.distributed.ReduceOp.PROD) {GUARD}"),
    ("dist.broadcast(t, 0)", f"(paddle.distributed.broadcast(t, 0) {GUARD}"),
    ("dist.barrier()", f"(paddle.distributed.barrier() {GUARD}"),
    ("dist.destroy_process_group()", f"(paddle.distributed.destroy_process_group() {GUARD}"),
    # rank and world size come from Paddle's launcher
    ("dist.init_process_group(backend='nccl', world_size=4, rank=r)", "paddle.distributed.init_parallel_env()"),
    ("m = torch.nn.parallel.DistributedDataParallel(net, device_ids=[r])", "m = paddle.DataParallel(net)"),
])  # fmt: skip
def test_distributed_rewrites(shipped_planner: Planner, before: str, after: str) -> None:
    assert last_line_converted(shipped_planner, HEAD, before) == after


def test_async_collective_is_left_with_a_reason(shipped_planner: Planner) -> None:
    """An asynchronous collective returns a handle to wait on: Paddle's differs, so it stays."""
    line = "work = dist.all_reduce(t, async_op=True)"
    assert last_line_converted(shipped_planner, HEAD, line) == line


def test_scatter_chunks_like_torch(shipped_planner: Planner) -> None:
    """torch's chunks (ceil-sized, the last shorter) on the current device; a repeated input that is not a
    name is bound once by a lambda, so it is evaluated once as in torch."""
    line = "parts = torch.nn.parallel.scatter(X, devices)"
    assert last_line_converted(shipped_planner, HEAD, line) == (
        "parts = tuple(paddle.compat.split(X, -(-X.shape[0] // len(devices)), dim=0))")
    line = "parts = torch.nn.parallel.scatter(f(X), devices)"
    assert last_line_converted(shipped_planner, HEAD, line) == (
        "parts = (lambda _inputs: tuple(paddle.compat.split(_inputs, -(-_inputs.shape[0] // len(devices)), dim=0)))"
        "(f(X))")
