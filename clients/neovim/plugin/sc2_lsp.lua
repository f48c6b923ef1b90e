-- Commands and the highlight; the server starts only from setup().
if vim.g.loaded_sc2_lsp then
  return
end
vim.g.loaded_sc2_lsp = true

local function highlight()
  vim.cmd("highlight default link SC2Suggestion Comment")
end
highlight()
-- :colorscheme clears every group, default links included.
vim.api.nvim_create_autocmd("ColorScheme", {
  group = vim.api.nvim_create_augroup("sc2_lsp_highlight", { clear = true }),
  callback = highlight,
})

vim.api.nvim_create_user_command("SC2Status", function()
  require("sc2_lsp").print_status()
end, { desc = "sc2-lsp: model state and counters" })

vim.api.nvim_create_user_command("SC2Toggle", function()
  require("sc2_lsp").toggle(true)
end, { desc = "sc2-lsp: turn suggestions on/off" })
