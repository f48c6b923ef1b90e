-- User options: defaults, merging and validation. Everything else reads
-- `config.options` and never sees raw user input.
local M = {}

M.defaults = {
  -- The language server; a list, as for vim.lsp.start_client.
  cmd = { "sc2-lsp", "serve" },
  -- Vim filetypes that get suggestions (the languages the server parses).
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact",
    "go", "rust", "java", "c", "cpp", "cs", "ruby", "php", "sh", "bash", "lua",
  },
  -- Quiet time after the last keystroke before a request is sent.
  debounce_ms = 75,
  -- Insert-mode keys; false disables one. accept falls through to the key's
  -- normal meaning when no suggestion is shown.
  keymaps = {
    accept = "<Tab>",
    accept_line = "<M-C-Right>",
    accept_word = "<M-Right>",
    dismiss = "<C-]>",
  },
  -- Sent as initializationOptions: model, quant, dtype, device,
  -- contextTokens, suffixFraction, maxNewTokens, multiline, temperature,
  -- kvReuse, cacheSize, deadlineMs, fallbackCompletion.
  settings = {},
  -- Files that mark the workspace root sent to the server (for cross-file
  -- context); the current directory when none is found.
  root_markers = { ".git", "pyproject.toml", "setup.py", "package.json", "go.mod", "Cargo.toml" },
  -- On Neovim 0.12+, let vim.lsp.inline_completion drive the suggestions
  -- instead of this plugin (accept key only; no line/word accept).
  native = false,
}

M.options = vim.deepcopy(M.defaults)

-- vim.validate's table form is deprecated from 0.11, so a plain check.
local TYPES = {
  cmd = "table", filetypes = "table", debounce_ms = "number", keymaps = "table",
  settings = "table", root_markers = "table", native = "boolean",
}

local function check(opts)
  for key, want in pairs(TYPES) do
    if type(opts[key]) ~= want then
      error(("sc2_lsp.setup: `%s` must be a %s, got %s"):format(key, want, type(opts[key])), 3)
    end
  end
end

function M.set(user)
  user = user or {}
  local opts = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), user)
  -- tbl_deep_extend merges lists index by index; a user list replaces ours.
  -- settings goes whole to the server, which validates it and reports bad
  -- values itself.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers", "settings" }) do
    if user[key] ~= nil then
      opts[key] = user[key]
    end
  end
  check(opts)
  M.options = opts
  return opts
end

return M
