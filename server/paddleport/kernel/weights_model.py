"""Build the converted model under Paddle (torch unimportable) and describe its parameter layout.

    python -m paddleport.kernel.weights_model REQUEST.json OUT.json

REQUEST: ``{"file": path the code is run as, "code": the (converted) source, "call": "Net(10)",
"classes": [Paddle class names with a weights layout]}``. OUT: ``{"layers": {prefix: class name},
"params": {name: [shape, dtype]}, "ties": [[names of one tensor], ...]}`` or ``{"error": ...}``.
Also ``load``: REQUEST with ``"pdparams"``: loads the file with ``paddle.load`` into the model and
reports what ``set_state_dict`` left missing or unexpected, so the written file is checked by Paddle itself.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any

from paddleport.kernel.example_worker import block_torch, quiet_paddle


def _resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        parent, _, outer = module.rpartition(".")
        try:
            return getattr(getattr(importlib.import_module(parent), outer), attr)
        except (ImportError, AttributeError):
            return None


def build(request: dict[str, Any]) -> Any:
    path = request["file"]
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    namespace: dict[str, Any] = {"__name__": "__paddleport_model__", "__file__": path}
    exec(compile(request["code"], path, "exec"), namespace)
    return eval(request["call"], namespace)


def describe(model: Any, classes: list[str]) -> dict[str, Any]:
    resolved = [(name, cls) for name in classes if (cls := _resolve(name)) is not None]
    layers: dict[str, str] = {}
    for prefix, layer in model.named_sublayers(include_self=True):
        exact = [name for name, cls in resolved if type(layer) is cls]
        inherited = [name for cls in type(layer).__mro__ for name, c in resolved if c is cls]
        if exact or inherited:
            layers[prefix] = (exact or inherited)[0]
    state = model.state_dict()
    params = {k: [list(v.shape), str(v.dtype)] for k, v in state.items()}
    by_id: dict[int, list[str]] = {}
    for k, v in state.items():
        by_id.setdefault(id(v), []).append(k)
    return {"layers": layers, "params": params, "ties": [names for names in by_id.values() if len(names) > 1]}


def main(argv: list[str]) -> int:
    request_path, out_path = argv[:2]
    with open(request_path, encoding="utf-8") as fh:
        request = json.load(fh)
    quiet_paddle()
    block_torch()
    try:
        import paddle

        paddle.disable_signal_handler()
        model = build(request)
        if "pdparams" in request:
            missing, unexpected = model.set_state_dict(paddle.load(request["pdparams"]))
            result: dict[str, Any] = {"missing": list(missing), "unexpected": list(unexpected)}
        else:
            result = describe(model, request.get("classes", []))
    except BaseException as exc:  # the user's model failing to build is a result to report
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == request["file"]]
        where = f" ({request['file']}:{frames[-1].lineno})" if frames else ""
        result = {"error": f"{type(exc).__name__}: {exc}{where}"}
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
