"""Prove rules by their examples: torch code vs its conversion, run in fresh worker processes.

This process converts the examples and never imports torch or paddle; each
shard runs a torch worker, then a paddle worker that compares with torch's
results. Shards run side by side, one per core.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from paddleport import __version__
from paddleport.analysis.finder import analyze
from paddleport.analysis.uses import UseKind
from paddleport.rewrite.convert import convert_source, plan
from paddleport.rewrite.fixes import Planner
from paddleport.rules.model import Rule, Tier

# numpy is imported so the analysis knows `np.triu(...)` is not a tensor method
PRELUDE = "import numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"


@dataclass
class Verdict:
    api: str
    verified: bool
    reason: str = ""


def example_jobs(rules: list[Rule], planner: Planner) -> tuple[list[dict[str, object]], dict[str, str]]:
    """Worker jobs for every example, and failures found before running anything."""
    jobs: list[dict[str, object]] = []
    early: dict[str, str] = {}
    for rule in rules:
        if rule.unverifiable_here:
            continue
        for i, ex in enumerate(rule.examples):
            job_id = f"{rule.api}#{i}"
            torch_code = PRELUDE + ex.code.strip() + "\n"
            # an example is about its rule: convert every use, whatever the receiver's type
            conv = convert_source(torch_code, planner, select=lambda fix: True)
            if conv.error:
                early[job_id] = f"conversion failed: {conv.error}"
                continue
            # what still needs converting (a kept spelling to review is Paddle already; running it checks it)
            left = [f for f in plan(analyze(conv.code, planner.rules), planner)
                    if f.use.kind is not UseKind.IMPORT and not f.keeps_text]
            if left:
                early[job_id] = "not converted: " + "; ".join(f.message for f in left)[:400]
                continue
            jobs.append({"id": job_id, "torch": torch_code, "paddle": conv.code,
                         "compare": ex.compare.value, "rtol": ex.rtol, "atol": ex.atol})  # fmt: skip
    return jobs, early


def _run_shard(jobs: list[dict[str, object]], python: str) -> dict[str, dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="paddleport-verify-") as tmp:
        jobs_path, torch_out, verdicts = (Path(tmp) / n for n in ("jobs.json", "torch.pkl", "v.json"))
        jobs_path.write_text(json.dumps(jobs), encoding="utf-8")
        env = dict(os.environ, GLOG_minloglevel="2", PYTHONWARNINGS="ignore")
        worker = [python, "-m", "paddleport.kernel.example_worker"]
        subprocess.run([*worker, "torch", str(jobs_path), str(torch_out)], check=True, env=env,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        subprocess.run([*worker, "paddle", str(jobs_path), str(verdicts), "--expected",
                        str(torch_out)], check=True, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
        result: dict[str, dict[str, object]] = json.loads(verdicts.read_text(encoding="utf-8"))
        return result


def verify(rules: list[Rule], planner: Planner, *, shards: int | None = None,
           python: str = sys.executable) -> dict[str, Verdict]:  # fmt: skip
    """Run every example of ``rules``; a rule is verified when all its examples pass."""
    jobs, early = example_jobs(rules, planner)
    shards = max(1, min(shards or os.cpu_count() or 1, len(jobs) or 1))
    chunks = [c for c in (jobs[i::shards] for i in range(shards)) if c]
    per_job: dict[str, dict[str, object]] = {}
    with cf.ThreadPoolExecutor(max(1, len(chunks))) as pool:
        for part in pool.map(lambda c: _run_shard(c, python), chunks):
            per_job.update(part)
    verdicts: dict[str, Verdict] = {}
    for rule in rules:
        reasons = []
        for i in range(len(rule.examples)):
            job_id = f"{rule.api}#{i}"
            if job_id in early:
                reasons.append(f"example {i + 1}: {early[job_id]}")
                continue
            v = per_job.get(job_id, {"verified": False, "reason": "not run"})
            if not v["verified"]:
                reasons.append(f"example {i + 1}: {v['reason']}")
        if rule.tier is Tier.MANUAL and rule.type_check is None:
            reasons = ["manual rule: nothing is converted, so there is nothing to verify"]
        elif rule.unverifiable_here:
            reasons = [rule.unverifiable_here]
        elif not rule.examples:
            reasons.append("no example")
        verdicts[rule.api] = Verdict(rule.api, not reasons, "; ".join(reasons))
    return verdicts


def results_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "paddleport" / f"verification-{__version__}.json"


def save(verdicts: dict[str, Verdict], path: Path | None = None) -> Path:
    path = path or results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {api: {"verified": v.verified, "reason": v.reason} for api, v in verdicts.items()}
    path.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    return path


def load(path: Path | None = None) -> dict[str, Verdict]:
    path = path or results_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {api: Verdict(api, bool(v.get("verified")), str(v.get("reason", ""))) for api, v in data.items()}
