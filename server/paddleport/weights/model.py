"""Learn the converted model's parameter layout from a child process (only the kernel imports paddle)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from paddleport.catalog import make_planner
from paddleport.files import read_source
from paddleport.rewrite.convert import convert_source
from paddleport.weights import CheckpointError
from paddleport.weights.layout import ModelLayout


def parse_model_spec(spec: str) -> tuple[Path, str]:
    """``model.py:Net(10)`` → (path, call); the call may itself hold ':'."""
    head, sep, call = spec.partition(".py:")
    if not sep or not call.strip():
        raise CheckpointError(f"--model {spec!r}: expected FILE.py:CALL, e.g. model.py:Net(num_classes=10)")
    return Path(head + ".py"), call.strip()


def run_child(request: dict[str, Any], python: str | None = None, timeout: float = 600.0) -> dict[str, Any]:
    """Run ``paddleport.kernel.weights_model`` on ``request`` in a fresh interpreter."""
    with tempfile.TemporaryDirectory(prefix="paddleport-weights-") as tmp:
        req, out = Path(tmp, "request.json"), Path(tmp, "out.json")
        req.write_text(json.dumps(request), encoding="utf-8")
        server = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(filter(None, [server, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        command = [python or sys.executable, "-m", "paddleport.kernel.weights_model", str(req), str(out)]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise CheckpointError(f"building the model took longer than {timeout:.0f} s") from None
        if not out.exists():
            raise CheckpointError(
                f"the model process failed (exit {proc.returncode}): {proc.stderr.strip()[-800:]}"
            )
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if "error" in result:
        raise CheckpointError(f"the converted model could not be built under Paddle: {result['error']}")
    return result


_FACTORY = re.compile(r"\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*\(")


def model_request(spec: str, rule_dirs: list[str] | None = None) -> dict[str, Any]:
    """The converted source and the call that builds the model; a Paddle file converts to itself.

    A factory call alone (``timm.create_model('resnet18')``) imports its module from the path (a
    converted package) and calls it.
    """
    factory = _FACTORY.match(spec)
    if ".py:" not in spec and factory:
        module = factory.group(1).rsplit(".", 1)[0]
        return {"file": str(Path.cwd() / "<factory>"), "code": f"import {module}\n", "call": spec.strip()}
    path, call = parse_model_spec(spec)
    try:
        text = read_source(path)
    except Exception as exc:
        raise CheckpointError(f"--model: {path}: {exc}") from None
    conversion = convert_source(text, make_planner(rule_dirs or []))
    if conversion.error:
        raise CheckpointError(f"--model: {path} cannot be converted: {conversion.error}")
    return {"file": str(path.resolve()), "code": conversion.code, "call": call}


def paddle_load_check(spec: str, pdparams: Path, rule_dirs: list[str] | None = None,
                      python: str | None = None) -> dict[str, list[str]]:  # fmt: skip
    """``paddle.load`` + ``set_state_dict`` of the written file into the converted model."""
    result = run_child({**model_request(spec, rule_dirs), "pdparams": str(pdparams.resolve())}, python)
    return {"missing": list(result["missing"]), "unexpected": list(result["unexpected"])}


def describe_model(spec: str, classes: list[str], rule_dirs: list[str] | None = None,
                   python: str | None = None) -> ModelLayout:  # fmt: skip
    request = {**model_request(spec, rule_dirs), "classes": classes}
    return ModelLayout.from_json(run_child(request, python))
