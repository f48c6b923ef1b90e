-- Starting sc2-lsp and talking to it, across Neovim 0.7 .. 0.12: 0.7 has
-- only vim.lsp.start_client + buf_attach_client, 0.8 added vim.lsp.start,
-- 0.11 made client methods colon calls.
local M = {}

M.name = "sc2-lsp"

local colon_calls = vim.fn.has("nvim-0.11") == 1

-- Buffer -> id of the client serving it.
local client_of = {}
-- 0.7: the one client we started (vim.lsp.start does this reuse itself).
local started_id = nil

local function root_dir(bufnr, markers)
  local path = vim.api.nvim_buf_get_name(bufnr)
  local dir = path ~= "" and vim.fn.fnamemodify(path, ":p:h") or vim.fn.getcwd()
  for _, marker in ipairs(markers) do
    local file = vim.fn.findfile(marker, dir .. ";")
    if file ~= "" then
      return vim.fn.fnamemodify(file, ":p:h")
    end
    -- finddir's :p form ends in "/", so :h twice drops the marker itself.
    local found = vim.fn.finddir(marker, dir .. ";")
    if found ~= "" then
      return vim.fn.fnamemodify(found, ":p:h:h")
    end
  end
  return vim.fn.getcwd()
end

-- The server also offers textDocument/completion for clients without inline
-- completion. Here it would only make completion plugins (nvim-cmp, omnifunc)
-- run the model a second time per keystroke, so it is hidden.
local function on_init(client)
  client.server_capabilities.completionProvider = nil
  if vim.fn.has("nvim-0.8") == 0 then
    client.resolved_capabilities.completion = false
  end
end

local function spec(opts, bufnr)
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  return {
    name = M.name,
    cmd = opts.cmd,
    root_dir = root_dir(bufnr, opts.root_markers),
    init_options = opts.settings,
    capabilities = capabilities,
    on_init = on_init,
  }
end

-- Starts the server if needed and attaches it to `bufnr`.
function M.attach(bufnr, opts)
  local id
  if vim.lsp.start then
    id = vim.lsp.start(spec(opts, bufnr), { bufnr = bufnr })
  else
    if not (started_id and vim.lsp.get_client_by_id(started_id)) then
      started_id = vim.lsp.start_client(spec(opts, bufnr))
    end
    id = started_id
    if id then
      vim.lsp.buf_attach_client(bufnr, id)
    end
  end
  client_of[bufnr] = id
  return id
end

-- The live client serving `bufnr`, or nil.
function M.get(bufnr)
  if bufnr == 0 then
    bufnr = vim.api.nvim_get_current_buf()
  end
  local id = client_of[bufnr]
  local client = id and vim.lsp.get_client_by_id(id)
  -- Requests must wait for the initialize handshake; a client that exited
  -- is no longer returned by get_client_by_id.
  if client and client.initialized then
    return client
  end
  return nil
end

function M.encoding(client)
  return client.offset_encoding or "utf-16"
end

function M.request(client, method, params, handler, bufnr)
  if colon_calls then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.notify(client, method, params)
  if colon_calls then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

function M.cancel(client, id)
  if colon_calls then
    return client:cancel_request(id)
  end
  return client.cancel_request(id)
end

return M
