-- Neovim 0.7 config used by make_screenshots.sh: start the paddleport language server on the
-- current buffer, show its diagnostics as signs + virtual text, and add :PaddleportFixAll.
-- Needs PP_PYTHON (a Python with paddleport installed) in the environment.
vim.o.termguicolors = true
vim.o.background = "dark"
vim.o.number = true
vim.o.signcolumn = "yes"
vim.o.cursorline = true
vim.o.laststatus = 2
vim.o.shortmess = vim.o.shortmess .. "I"
vim.o.swapfile = false
vim.cmd("syntax on")
vim.cmd("filetype plugin indent on")
vim.cmd([[
  highlight Normal guifg=#d4d4d4 guibg=#1e1e1e
  highlight LineNr guifg=#6e7681 guibg=#1e1e1e
  highlight CursorLine guibg=#2a2d2e
  highlight CursorLineNr guifg=#e0e0e0 guibg=#2a2d2e
  highlight SignColumn guibg=#1e1e1e
  highlight StatusLine guifg=#ffffff guibg=#007acc gui=NONE
  highlight Comment guifg=#6a9955
  highlight String guifg=#ce9178
  highlight Statement guifg=#c586c0
  highlight Function guifg=#dcdcaa
  highlight Identifier guifg=#9cdcfe
  highlight Constant guifg=#b5cea8
  highlight Type guifg=#4ec9b0
  highlight PreProc guifg=#c586c0
  highlight NormalFloat guibg=#252526
  highlight FloatBorder guifg=#6e7681 guibg=#1e1e1e
  highlight DiagnosticWarn guifg=#cca700
  highlight DiagnosticInfo guifg=#3794ff
  highlight DiagnosticHint guifg=#8c8c8c
  highlight DiagnosticVirtualTextWarn guifg=#cca700 guibg=#2d2a1e
  highlight DiagnosticVirtualTextInfo guifg=#3794ff guibg=#1e2633
  highlight DiagnosticVirtualTextHint guifg=#8c8c8c
  highlight DiagnosticUnderlineWarn gui=undercurl guisp=#cca700
  highlight DiagnosticUnderlineInfo gui=underline guisp=#3794ff
]])
vim.diagnostic.config({
  virtual_text = { prefix = "●", spacing = 2 },
  signs = true,
  underline = true,
  severity_sort = true,
  float = { border = "rounded", source = false, header = "", max_width = 96 },
})

local client_id = vim.lsp.start_client({
  name = "paddleport",
  cmd = { os.getenv("PP_PYTHON") or "python3", "-P", "-m", "paddleport", "lsp" },
  root_dir = vim.fn.getcwd(),
})
vim.api.nvim_create_autocmd("FileType", {
  pattern = "python",
  callback = function(args) vim.lsp.buf_attach_client(args.buf, client_id) end,
})

-- Neovim 0.7's code_action() has no `apply` option, so fix-all is requested and applied by hand.
vim.api.nvim_create_user_command("PaddleportFixAll", function()
  local bufnr = vim.api.nvim_get_current_buf()
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr), only = { "source.fixAll" } }
  local results = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 20000)
  for _, res in pairs(results or {}) do
    for _, action in ipairs(res.result or {}) do
      if action.edit then vim.lsp.util.apply_workspace_edit(action.edit, "utf-16") end
    end
  end
end, {})
