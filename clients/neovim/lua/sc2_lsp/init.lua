-- Public API of the sc2-lsp Neovim client. See clients/neovim/README.md.
local client = require("sc2_lsp.client")
local config = require("sc2_lsp.config")
local keymaps = require("sc2_lsp.keymaps")
local native = require("sc2_lsp.native")
local session = require("sc2_lsp.session")
local status = require("sc2_lsp.status")
local suggestion = require("sc2_lsp.suggestion")

local M = {}

local group = nil
local attached = {} -- bufnr -> true
local use_native = false
local reported_missing = false

local function bufnr_or_current(bufnr)
  return (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
end

local function showing(bufnr)
  return session.current(bufnr) ~= nil
end

local function attach(bufnr)
  if attached[bufnr] or vim.bo[bufnr].buftype ~= "" then
    return
  end
  local exe = config.options.cmd[1]
  if vim.fn.executable(exe) ~= 1 then
    -- Once, not for every buffer opened.
    if not reported_missing then
      reported_missing = true
      -- Scheduled: from inside the FileType autocmd 0.7 would wrap it in an
      -- "Error detected while processing" banner.
      vim.schedule(function()
        vim.notify("sc2-lsp: server not found: " .. tostring(exe) .. " (set `cmd` in setup())",
          vim.log.levels.ERROR)
      end)
    end
    return
  end
  if not client.attach(bufnr, config.options) then
    return -- start_client has reported why
  end
  attached[bufnr] = true
  if use_native then
    native.attach(bufnr, config.options.keymaps)
  else
    session.attach(bufnr, group)
    keymaps.set(bufnr, config.options.keymaps, showing)
  end
  vim.api.nvim_create_autocmd("BufWipeout", {
    group = group,
    buffer = bufnr,
    callback = function()
      attached[bufnr] = nil
    end,
  })
end

-- Starts sc2-lsp for the configured filetypes. Safe to call again: the new
-- options apply to buffers opened afterwards.
function M.setup(opts)
  config.set(opts)
  reported_missing = false
  -- Clearing the group below drops the buffers' autocmds: attach them anew.
  attached = {}
  use_native = config.options.native and native.available()
  group = vim.api.nvim_create_augroup("sc2_lsp", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.options.filetypes,
    callback = function(args)
      attach(args.buf)
    end,
  })
  -- Buffers opened before setup (e.g. when the plugin is lazy-loaded).
  local wanted = {}
  for _, ft in ipairs(config.options.filetypes) do
    wanted[ft] = true
  end
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and wanted[vim.bo[bufnr].filetype] then
      attach(bufnr)
    end
  end
end

-- The text of the suggestion shown now in `bufnr` (default: current), or
-- nil. With `native = true` the suggestion belongs to Neovim: always nil.
function M.suggestion(bufnr)
  local s = session.current(bufnr_or_current(bufnr))
  return s and s.text or nil
end

-- Accept all / the next line / the next word of the shown suggestion.
-- Each returns false when nothing is shown, for use in custom mappings.
function M.accept()
  return session.accept(vim.api.nvim_get_current_buf(), function(text)
    return text
  end)
end

function M.accept_line()
  return session.accept(vim.api.nvim_get_current_buf(), suggestion.next_line)
end

function M.accept_word()
  return session.accept(vim.api.nvim_get_current_buf(), suggestion.next_word)
end

function M.dismiss()
  return session.dismiss(vim.api.nvim_get_current_buf())
end

-- Requests a suggestion now (triggerKind Invoked) instead of after a pause.
function M.trigger()
  session.request(vim.api.nvim_get_current_buf())
end

function M.is_enabled()
  return session.enabled
end

-- Turns suggestions on or off everywhere; off sends no requests at all.
-- `echo` says which it is now (for :SC2Toggle).
function M.toggle(echo)
  local on = not session.enabled
  session.set_enabled(on)
  if use_native then
    for bufnr in pairs(attached) do
      native.set_enabled(bufnr, on)
    end
  end
  if echo then
    vim.api.nvim_echo({ { "sc2-lsp: suggestions " .. (on and "on" or "off") } }, false, {})
  end
  return on
end

-- Counters of this client (requests sent, answers dropped as stale or
-- superseded, suggestions shown and accepted).
function M.stats()
  return vim.deepcopy(session.stats)
end

-- `callback(err, status)` with the server's sc2/status reply.
function M.status(callback, bufnr)
  status.fetch(bufnr_or_current(bufnr), callback)
end

function M.print_status()
  status.print(vim.api.nvim_get_current_buf())
end

return M
