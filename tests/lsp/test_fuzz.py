"""A bounded random editing session over stdio; ``bench/lsp_fuzz.py`` runs the long one.

``PADDLEPORT_FUZZ_STEPS`` sets the number of edits per session (400 here).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fuzz_session import run_session
from pytest_lsp import LanguageClient

STEPS = int(os.environ.get("PADDLEPORT_FUZZ_STEPS", "400"))


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_edits_keep_the_server_in_step(client: LanguageClient, workspace: Path, seed: int) -> None:
    seen = await run_session(client, (workspace / f"fuzz{seed}.py").as_uri(), steps=STEPS, seed=seed)
    print("fuzz-counts", json.dumps({"seed": seed, **seen}))
    assert seen["checks"] >= STEPS // 5 and seen["fixes"] > 0, seen
