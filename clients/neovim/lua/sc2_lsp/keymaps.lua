-- Buffer-local insert-mode keys. Each acts only while a suggestion shows and
-- otherwise types the key as if unmapped, so <Tab> still indents.
local M = {}

local ACTIONS = { accept = true, accept_line = true, accept_word = true, dismiss = true }

-- `keys`: action name -> lhs (or false); `showing(bufnr)`: is a suggestion up.
function M.set(bufnr, keys, showing)
  for name, lhs in pairs(keys) do
    if lhs and ACTIONS[name] then
      vim.keymap.set("i", lhs, function()
        if showing(bufnr) then
          -- <Cmd> runs the edit without leaving insert mode or textlock.
          return "<Cmd>lua require('sc2_lsp')." .. name .. "()<CR>"
        end
        return lhs
      end, { buffer = bufnr, expr = true, silent = true, desc = "sc2-lsp: " .. name })
    end
  end
end

return M
