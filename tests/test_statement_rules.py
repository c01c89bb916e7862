"""Whole-statement rules: a torch statement with no Paddle expression becomes a Paddle statement.

Engine specs run on the fixture rules; the last tests run the shipped catalogue on a
typical training-script preamble and execute the result under paddle with torch blocked.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from paddleport.analysis.uses import UseKind
from paddleport.rewrite.convert import Conversion, convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

Convert = Callable[..., Conversion]


def _once_and_again(convert: Convert, planner: Planner, before: str) -> str:
    out = convert(dedent(before))
    assert out.error is None, out.error
    ast.parse(out.code)
    assert convert_source(out.code, planner).code == out.code  # converting twice changes nothing
    return out.code


def test_flag_assignment_becomes_the_rule_statement_indented_with_its_comment(
        convert: Convert, planner: Planner) -> None:  # fmt: skip
    code = _once_and_again(convert, planner, """
        import torch

        def setup(seed):
            torch.backends.cudnn.deterministic = seed > 0  # reproducible
            return seed
        """)
    assert code == dedent("""
        import paddle

        def setup(seed):
            if paddle.is_compiled_with_cuda():
                paddle.set_flags({"FLAGS_cudnn_deterministic": (seed > 0)})  # reproducible
            return seed
        """)


def test_import_aliases_of_the_module_resolve(convert: Convert, planner: Planner) -> None:
    code = _once_and_again(convert, planner, """
        import torch.backends.cudnn as cudnn
        from torch.backends import cudnn as cd
        cudnn.enabled = True
        cd.enabled = False
        """)
    assert code == "pass  # cudnn.enabled: no Paddle switch\npass  # cudnn.enabled: no Paddle switch\n"


def test_nested_uses_in_the_value_convert_first(convert: Convert, planner: Planner) -> None:
    code = _once_and_again(convert, planner, """
        import torch
        torch.backends.cudnn.deterministic = torch.backends.mps.is_available()
        """)
    assert 'paddle.set_flags({"FLAGS_cudnn_deterministic": False})' in code
    assert "torch" not in code


def test_call_standing_alone_becomes_the_statement_with_defaults(convert: Convert, planner: Planner) -> None:
    code = _once_and_again(convert, planner, """
        import torch
        torch.set_float32_matmul_precision("high")
        torch.set_float32_matmul_precision()
        """)
    assert code == dedent("""
        import paddle
        paddle.base.core.set_cublas_switch("high" != 'highest')
        paddle.base.core.set_cublas_switch('highest' != 'highest')
        """)


def test_not_alone_on_its_line_stays_with_the_reason(convert: Convert) -> None:
    before = "import torch\nif fast: torch.backends.cudnn.deterministic = False\nx = 1; torch.backends.cudnn.enabled = True\n"
    out = convert(before)
    assert out.code == before
    reasons = [o.fix.message for o in out.outcomes if not o.applied and o.use.rule is not None]
    assert len(reasons) == 2 and all("on a line of its own" in r for r in reasons)


def test_reads_and_calls_inside_expressions_stay_with_the_reason(convert: Convert) -> None:
    before = "import torch\nprint(torch.backends.cudnn.enabled)\nok = torch.set_float32_matmul_precision('high')\n"
    out = convert(before)
    assert out.code == before
    messages = " | ".join(o.fix.message for o in out.outcomes if o.use.rule is not None)
    assert "reading it has no Paddle counterpart" in messages
    assert "a call `torch.set_float32_matmul_precision(...)` standing as a statement" in messages


def test_a_no_op_never_drops_a_call_in_the_value(convert: Convert) -> None:
    before = "import torch\ntorch.backends.cudnn.enabled = check_gpu()\n"
    out = convert(before)
    assert out.code == before
    assert any("would no longer run" in o.fix.message for o in out.outcomes)


def test_formula_rule_needs_no_paddle_name(convert: Convert) -> None:
    out = convert("import torch\nif torch.backends.mps.is_available():\n    d = 'mps'\n")
    assert out.code == "if False:\n    d = 'mps'\n"


def test_tied_linear_keeps_torchs_layout_and_others_do_not(convert: Convert, planner: Planner) -> None:
    code = _once_and_again(convert, planner, """
        import torch.nn as nn

        class LM(nn.Module):
            def __init__(self):
                super().__init__()
                self.head = nn.Linear(4, 10, bias=False)
                self.proj = nn.Linear(4, 4, bias=False)
                self.tie()

            def tie(self):
                self.head.weight = self.emb.weight
        """)
    assert "self.head = paddle.compat.nn.Linear(4, 10, bias=False)" in code
    assert "self.proj = paddle.nn.Linear(4, 4, bias_attr=False)" in code


def test_tying_from_the_linear_side_and_a_new_parameter(convert: Convert) -> None:
    out = convert(dedent("""
        import torch.nn as nn

        class A(nn.Module):
            def __init__(self):
                super().__init__()
                self.out = nn.Linear(4, 10)
                self.emb.weight = self.out.weight

        class B(nn.Module):
            def __init__(self, w):
                super().__init__()
                self.fc = nn.Linear(4, 10)
                self.fc.weight = w
        """))
    assert out.code.count("paddle.compat.nn.Linear(4, 10)") == 2
    tied = [o for o in out.outcomes if o.use.api == "torch.nn.Linear"]
    assert all("keeps torch's weight layout" in o.fix.message and "review" not in o.fix.message for o in tied)


def test_a_nested_layer_taking_the_linears_weight_keeps_its_layout(convert: Convert) -> None:
    """nanoGPT ties from inside a ModuleDict: `self.transformer.wte.weight = self.lm_head.weight`."""
    out = convert(dedent("""
        import torch.nn as nn

        class GPT(nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = nn.ModuleDict(dict(wte=nn.Embedding(10, 4)))
                self.lm_head = nn.Linear(4, 10, bias=False)
                self.transformer.wte.weight = self.lm_head.weight
        """))
    assert "self.lm_head = paddle.compat.nn.Linear(4, 10, bias=False)" in out.code


def test_isinstance_of_a_linear_also_takes_the_torch_layout_class(convert: Convert) -> None:
    """nanoGPT's _init_weights asks isinstance(module, nn.Linear) of its tied lm_head too."""
    out = convert("import torch.nn as nn\ndef f(m):\n    return isinstance(m, nn.Linear)\n")
    assert "isinstance(m, (paddle.nn.Linear, paddle.compat.nn.Linear))" in out.code


PREAMBLE = '''
import io
import os
import torch
import torch.nn as nn
import torch.backends.cudnn as cudnn
import torch.multiprocessing as mp


def seed_everything(seed):
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    cudnn.benchmark = False  # deterministic
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = True


class TinyLM(nn.Module):
    def __init__(self, vocab=11, dim=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.drop = nn.Dropout2d(0.1)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.lm_head.weight = self.emb.weight

    def forward(self, ids):
        h = self.drop(self.emb(ids))
        return self.lm_head(h)


def main():
    mp.set_start_method("spawn", force=True)
    seed_everything(0)
    torch.set_float32_matmul_precision("high")
    torch.serialization.add_safe_globals([TinyLM])
    if torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    print("accelerator:", torch.accelerator.is_available(), torch.accelerator.device_count())
    model = TinyLM().to(device)
    model = torch.compile(model)
    ids = torch.tensor([[1, 2, 3], [4, 5, 6]])
    logits = model(ids)  # an unknown callable's result: tensor methods on it are low confidence
    pred = torch.max(logits, -1)[1]
    loss = nn.functional.cross_entropy(torch.flatten(logits, 0, 1), torch.flatten(ids))
    loss.backward()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, map_location="cpu", weights_only=True)
    print("saved", sorted(state), tuple(pred.shape), float(loss))


if __name__ == "__main__":
    main()
'''

RUN_SCRIPT = "import runpy, sys\nrunpy.run_path(sys.argv[1], run_name='__main__')\n"


def test_training_preamble_converts_fully_and_runs_without_torch(
        shipped_planner: Planner, tmp_path: Path) -> None:  # fmt: skip
    out = convert_source(PREAMBLE, shipped_planner)
    assert out.error is None, out.error
    left = [o.fix.message for o in out.outcomes if o.use.kind is not UseKind.IMPORT and not o.applied]
    assert not left, left
    assert "import torch" not in out.code and "torch." not in out.code.replace("# torch.", "")
    assert convert_source(out.code, shipped_planner).code == out.code
    script = tmp_path / "train.py"
    script.write_text(out.code, encoding="utf-8")
    run = run_without_torch(RUN_SCRIPT, tmp_path, str(script), timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "accelerator: False 0" in run.stdout
    assert "saved ['emb.weight', 'lm_head.weight'] (2, 3)" in run.stdout


def test_the_editor_fix_replaces_the_statement_and_its_title_is_one_line(planner: Planner) -> None:
    from paddleport.analysis.finder import analyze
    from paddleport.lsp.diagnostics import fix_edits, fix_title
    from paddleport.rewrite.convert import plan
    from paddleport.rewrite.edits import apply_edits

    text = "import torch\n\ndef f():\n    torch.backends.cudnn.deterministic = True  # why\n"
    (fix,) = [f for f in plan(analyze(text, planner.rules), planner) if f.use.rule is not None]
    assert text[fix.use.focus_start : fix.use.focus_end] == "torch.backends.cudnn.deterministic"
    assert "\n" not in fix_title(fix) and fix_title(fix).startswith("Paddleport (torch.backends.cudnn.deterministic)")
    fixed = apply_edits(text, fix_edits(fix, text))
    assert fixed.endswith(
        "    if paddle.is_compiled_with_cuda():\n"
        '        paddle.set_flags({"FLAGS_cudnn_deterministic": True})  # why\n'
    )


def test_a_file_from_with_open_becomes_its_path_for_paddle_save_and_load(shipped_planner: Planner) -> None:
    before = dedent("""
        import torch

        def checkpoint(obj, path, f):
            with open(path, "wb") as fh:
                torch.save(obj, fh)  # weights
            with open(path, "rb") as fh, open("log.txt", "a") as log:
                state = torch.load(f=fh, map_location="cpu")
            torch.save(obj, f)
            return state
        """)
    out = convert_source(before, shipped_planner)
    assert "        paddle.save(obj, fh.name)  # weights\n" in out.code
    assert "        state = paddle.load(path=fh.name)\n" in out.code
    assert "    paddle.save(obj, f)\n" in out.code  # not known to be a file: the review note says what to check
    assert convert_source(out.code, shipped_planner).code == out.code
