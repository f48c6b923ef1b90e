-- :SC2Status: asks the server for sc2/status and prints it.
local client = require("sc2_lsp.client")

local M = {}

local function fmt_ms(v)
  return type(v) == "number" and string.format("%.0f ms", v) or "-"
end

-- The reply as message chunks for nvim_echo.
function M.format(st)
  local head = string.format("sc2-lsp: %s  model %s  device %s  quant %s  memory %s MB",
    tostring(st.state), tostring(st.model), tostring(st.device), tostring(st.quant),
    type(st.memory_mb) == "number" and string.format("%.0f", st.memory_mb) or "-")
  local chunks = { { head, st.state == "error" and "ErrorMsg" or "None" } }
  if type(st.error) == "string" and st.error ~= "" then
    chunks[#chunks + 1] = { "\nerror: " .. st.error, "ErrorMsg" }
  end
  local c = type(st.counters) == "table" and st.counters or {}
  chunks[#chunks + 1] = { string.format(
    "\nrequests %s  model calls %s  cache hits %s  typing-through %s  mean %s  p95 %s  shown %s  accepted %s",
    tostring(c.requests or 0), tostring(c.model_calls or 0), tostring(c.cache_hits or 0),
    tostring(c.typing_through or 0), fmt_ms(c.mean_ms), fmt_ms(c.p95_ms),
    tostring(c.shown or 0), tostring(c.accepted or 0)), "None" }
  return chunks
end

-- Calls `callback(err, status)` with the server's reply for `bufnr`.
function M.fetch(bufnr, callback)
  local c = client.get(bufnr)
  if not c then
    callback("not running for this buffer", nil)
    return
  end
  client.request(c, "sc2/status", {}, function(err, result)
    callback(err and (err.message or tostring(err)) or nil, result)
  end, bufnr)
end

function M.print(bufnr)
  M.fetch(bufnr, function(err, st)
    if err or type(st) ~= "table" then
      vim.api.nvim_echo({ { "sc2-lsp: " .. tostring(err or "no status"), "ErrorMsg" } }, true, {})
      return
    end
    vim.api.nvim_echo(M.format(st), true, {})
  end)
end

return M
