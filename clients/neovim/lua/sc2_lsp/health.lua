-- :checkhealth sc2_lsp — why suggestions do not appear, without reading logs.
local client = require("sc2_lsp.client")
local config = require("sc2_lsp.config")

local M = {}

-- vim.health from 0.9 (report_* names deprecated in 0.10); require("health") before.
local h = vim.health or require("health")
local start = h.start or h.report_start
local ok = h.ok or h.report_ok
local warn = h.warn or h.report_warn
local err = h.error or h.report_error

function M.check()
  start("sc2-lsp")
  local v = vim.version()
  ok(("Neovim %d.%d.%d"):format(v.major, v.minor, v.patch))
  local exe = config.options.cmd[1]
  if vim.fn.executable(exe) == 1 then
    ok("server command: " .. table.concat(config.options.cmd, " "))
  else
    err("server command not found: " .. tostring(exe), { "install sc2-lsp or set `cmd` in setup()" })
  end
  if not require("sc2_lsp").is_enabled() then
    warn("suggestions are toggled off (:SC2Toggle)")
  end
  -- :checkhealth runs in a buffer of its own: look for any served buffer.
  local bufnr
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if client.get(b) then
      bufnr = b
      break
    end
  end
  if not bufnr then
    warn("no buffer has an sc2-lsp client yet",
      { "open a file of one of: " .. table.concat(config.options.filetypes, ", ") })
    return
  end
  local done, reply = false, nil
  require("sc2_lsp").status(function(e, st)
    reply = { err = e, status = st }
    done = true
  end, bufnr)
  vim.wait(3000, function() return done end, 20)
  local st = reply and reply.status
  if not st then
    err("sc2/status got no answer: " .. tostring(reply and reply.err or "timeout"))
  elseif st.state == "ready" then
    ok(("model %s ready on %s"):format(tostring(st.model), tostring(st.device)))
  elseif st.state == "loading" then
    warn("model " .. tostring(st.model) .. " is still loading")
  else
    err("model failed to load: " .. tostring(st.error))
  end
end

return M
