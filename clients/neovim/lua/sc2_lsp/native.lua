-- Neovim 0.12+ with `native = true`: vim.lsp.inline_completion requests,
-- draws and accepts; this module only enables it and maps the accept key.
local client = require("sc2_lsp.client")

local M = {}

function M.available()
  return vim.lsp.inline_completion ~= nil
end

function M.attach(bufnr, keys)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  if not keys.accept then
    return
  end
  vim.keymap.set("i", keys.accept, function()
    local accepted = vim.lsp.inline_completion.get({
      bufnr = bufnr,
      on_accept = function(item)
        local c = client.get(bufnr)
        -- The item's field was renamed during 0.12 development.
        local text = item.insert_text or item.value or ""
        if type(text) == "table" then
          text = text.value
        end
        if c then
          client.notify(c, "sc2/didAcceptCompletion", {
            uri = vim.uri_from_bufnr(bufnr),
            acceptedLength = vim.fn.strchars(text),
          })
        end
        return item
      end,
    })
    if not accepted then
      return keys.accept
    end
  end, { buffer = bufnr, expr = true, silent = true, desc = "sc2-lsp: accept" })
end

function M.set_enabled(bufnr, on)
  vim.lsp.inline_completion.enable(on, { bufnr = bufnr })
end

return M
