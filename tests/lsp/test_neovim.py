"""A real editor: headless Neovim 0.7 starts the server, shows diagnostics, applies fix-all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_helpers import TORCH_FILE

from paddleport.catalog import make_planner
from paddleport.rewrite.convert import convert_source
from paddleport.rules.model import Tier

NVIM = shutil.which("nvim")

SCRIPT = r"""
local file, out, python = os.getenv("PP_FILE"), os.getenv("PP_OUT"), os.getenv("PP_PYTHON")
local function finish(result)
  vim.fn.writefile({vim.fn.json_encode(result)}, out)
  vim.cmd("qa!")
end
vim.cmd("edit " .. file)
local bufnr = vim.api.nvim_get_current_buf()
local client_id = vim.lsp.start_client({
  name = "paddleport",
  cmd = {python, "-P", "-m", "paddleport", "lsp"},
  root_dir = vim.fn.fnamemodify(file, ":h"),
  init_options = {paddleport = {debounceMs = 5}},
})
vim.lsp.buf_attach_client(bufnr, client_id)
local got = vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20)
if not got then return finish({error = "no diagnostics"}) end
local messages = {}
for _, d in ipairs(vim.diagnostic.get(bufnr)) do table.insert(messages, d.message) end
-- The code-action context as Neovim 0.7 builds it (diagnostics of the cursor line).
vim.api.nvim_win_set_cursor(0, {8, 25})
local params = vim.lsp.util.make_range_params()
params.context = {diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr)}
local quick = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 20000)
local titles = {}
for _, res in pairs(quick or {}) do
  for _, action in ipairs(res.result or {}) do table.insert(titles, action.title) end
end
params.context.only = {"source.fixAll"}
local results = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 20000)
local applied = 0
for _, res in pairs(results or {}) do
  for _, action in ipairs(res.result or {}) do
    if action.edit then
      vim.lsp.util.apply_workspace_edit(action.edit, "utf-16")
      applied = applied + 1
    end
  end
end
finish({
  messages = messages,
  titles = titles,
  applied = applied,
  lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false),
})
"""


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (apt-get install -y neovim)")
def test_neovim_shows_diagnostics_and_applies_fix_all(tmp_path: Path) -> None:
    source = tmp_path / "net.py"
    source.write_text(TORCH_FILE)
    script = tmp_path / "drive.lua"
    script.write_text(SCRIPT)
    out = tmp_path / "result.json"
    env = dict(os.environ, PP_FILE=str(source), PP_OUT=str(out), PP_PYTHON=sys.executable)
    assert NVIM is not None
    subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"luafile {script}"],
        env=env,
        timeout=90,
        check=False,
        capture_output=True,
    )
    assert out.exists(), "Neovim did not finish the script"
    result = json.loads(out.read_text())
    assert "error" not in result, result
    assert any(m.startswith("torch.nn.Conv2d → paddle.nn.Conv2D") for m in result["messages"])
    assert "Paddleport (torch.nn.Conv2d): Replace with paddle.nn.Conv2D" in result["titles"]
    assert result["applied"] == 1
    expected = convert_source(
        TORCH_FILE,
        make_planner(),
        select=lambda f: f.tier is Tier.EXACT and f.use.confidence >= 2,
    ).code
    assert "\n".join(result["lines"]) + "\n" == expected
