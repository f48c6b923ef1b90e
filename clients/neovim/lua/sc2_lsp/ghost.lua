-- Ghost text: draws a suggestion with one extmark and nothing else.
--
-- Neovim 0.7 has no inline virtual text, so the first line is an overlay at
-- the cursor that shows the line as it will read after accepting (the text
-- after the cursor included, padded to hide what moves away); further lines
-- are virt_lines below.
local suggestion = require("sc2_lsp.suggestion")

local M = {}

M.ns = vim.api.nvim_create_namespace("sc2_lsp")
M.hl = "SC2Suggestion"

-- Virtual text shows a tab as a single cell; expand it the way the buffer
-- would, starting at display column `vcol`.
local function expand_tabs(s, vcol, tabstop)
  return (s:gsub("([^\t]*)\t", function(chunk)
    local width = vcol + vim.fn.strdisplaywidth(chunk)
    local pad = tabstop - width % tabstop
    vcol = width + pad
    return chunk .. string.rep(" ", pad)
  end))
end

function M.show(bufnr, s)
  local line = vim.api.nvim_buf_get_lines(bufnr, s.row, s.row + 1, true)[1]
  local tabstop = vim.bo[bufnr].tabstop
  local lines = suggestion.result_lines(s, line)
  local start_vcol = vim.fn.strdisplaywidth(line:sub(1, s.col))
  local first = expand_tabs(lines[1], start_vcol, tabstop)
  local hidden = vim.fn.strdisplaywidth(line:sub(s.col + 1), start_vcol)
  first = first .. string.rep(" ", hidden - vim.fn.strdisplaywidth(first, start_vcol))
  local virt_lines = {}
  for i = 2, #lines do
    virt_lines[#virt_lines + 1] = { { expand_tabs(lines[i], 0, tabstop), M.hl } }
  end
  M.clear(bufnr)
  vim.api.nvim_buf_set_extmark(bufnr, M.ns, s.row, s.col, {
    virt_text = { { first, M.hl } },
    virt_text_pos = "overlay",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
  })
end

function M.clear(bufnr)
  if vim.api.nvim_buf_is_valid(bufnr) then
    vim.api.nvim_buf_clear_namespace(bufnr, M.ns, 0, -1)
  end
end

return M
