"""`conv.out_channels` on a layer of unknown type reads right under Paddle, whatever the layer turns out to be."""

from __future__ import annotations

import json
from pathlib import Path

from paddleport.rewrite.convert import convert_source
from paddleport.rewrite.fixes import Planner
from tests.conftest import dedent, run_without_torch

BLOCKS = dedent('''
    import torch.nn as nn


    class Mixed(nn.Module):
        """A user layer with its own out_channels (timm's MixedConv2d)."""
        def __init__(self, out_channels):
            super().__init__()
            self.out_channels = out_channels
            self.in_channels = 3


    def create_conv2d(in_chs, out_chs, mixed=False):
        return Mixed(out_chs) if mixed else nn.Conv2d(in_chs, out_chs, 1)


    class Block(nn.Module):
        def __init__(self, mixed):
            super().__init__()
            self.conv_pw = create_conv2d(3, 5, mixed)

        def info(self):
            return self.conv_pw.in_channels, self.conv_pw.out_channels
    ''')

RUN = dedent('''
    import json
    from blocks import Block
    print(json.dumps([list(Block(False).info()), list(Block(True).info())]))
    ''')


def test_channels_of_a_factory_made_layer_read_right_for_paddle_convs_and_user_layers(
        shipped_planner: Planner, tmp_path: Path) -> None:  # fmt: skip
    conversion = convert_source(BLOCKS, shipped_planner)
    assert conversion.error is None
    assert "torch" not in conversion.code and "self.out_channels = out_channels" in conversion.code
    (tmp_path / "blocks.py").write_text(BLOCKS)
    torch_run = run_without_torch(RUN, tmp_path, block=False)
    assert torch_run.returncode == 0, torch_run.stderr
    (tmp_path / "blocks.py").write_text(conversion.code)
    paddle_run = run_without_torch(RUN, tmp_path)
    assert paddle_run.returncode == 0, paddle_run.stderr
    assert json.loads(paddle_run.stdout.splitlines()[-1]) == json.loads(torch_run.stdout) == [[3, 5], [3, 5]]


def test_a_receiver_that_is_not_a_name_chain_is_left_with_the_reason(shipped_planner: Planner) -> None:
    code = "import torch.nn as nn\ndef f(make):\n    return make().out_channels\n"
    conversion = convert_source(code, shipped_planner)
    assert "make().out_channels" in conversion.code


def test_reads_on_untyped_layers_convert_once(shipped_planner: Planner) -> None:
    """The run-time check reads the other kind's attribute through getattr: converting the output
    again finds no torch member to rewrite (by_name reads on untyped receivers used to match it)."""
    code = dedent('''
        import torch.nn as nn


        def describe(layer):
            return layer.out_channels, layer.in_channels, layer.bidirectional
        ''')
    once = convert_source(code, shipped_planner).code
    assert "getattr(layer, 'out_channels')" in once and "getattr(layer, 'bidirectional')" in once
    assert convert_source(once, shipped_planner).code == once


RESET = dedent('''
    import json
    import torch
    import torch.nn as nn


    class ScaledConv(nn.Conv2d):
        """timm's ScaledStdConv2d: its own reset_parameters, which calls the base's."""
        def __init__(self, cin, cout, k):
            super().__init__(cin, cout, k)
            self.gain = nn.Parameter(torch.ones(cout, 1, 1, 1))
            self.reset_parameters()

        def reset_parameters(self) -> None:
            if hasattr(self, "gain"):
                torch.nn.init.constant_(self.gain, 2.0)
                super().reset_parameters()


    m = ScaledConv(3, 4, 3)
    bound = 1 / 27 ** 0.5
    print(json.dumps([float(m.gain.mean()), float(m.weight.abs().max()) <= bound,
                      float(m.weight.abs().max()) > 0.7 * bound, list(m(torch.ones(1, 3, 5, 5)).shape)]))
''')


def test_an_override_of_reset_parameters_stays_and_its_super_call_resets_as_torch(
        shipped_planner: Planner, tmp_path: Path) -> None:  # fmt: skip
    """`self.reset_parameters()` calls the subclass's own method (kept); `super().reset_parameters()`
    is torch's, which Paddle's Conv2D lacks: a helper draws the parameters again as torch does."""
    code = convert_source(RESET, shipped_planner).code
    assert "        self.reset_parameters()" in code
    assert "_paddleport_vision.reset_parameters(super())" in code
    (tmp_path / "reset.py").write_text(code)
    ran = run_without_torch("import runpy; runpy.run_path('reset.py')", tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == [2.0, True, True, [1, 4, 3, 3]]
