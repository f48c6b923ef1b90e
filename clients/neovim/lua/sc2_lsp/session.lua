-- The suggestion cycle of each buffer: debounce -> request -> check that the
-- answer still fits the buffer -> show -> accept or dismiss.
--
-- A request and a shown suggestion each remember the buffer state they are
-- for (changedtick + cursor). An answer for a state that has moved on is
-- dropped, never shown: ghost text must always be what <Tab> would insert.
local client = require("sc2_lsp.client")
local config = require("sc2_lsp.config")
local ghost = require("sc2_lsp.ghost")
local position = require("sc2_lsp.position")
local suggestion = require("sc2_lsp.suggestion")

local M = {}

local uv = vim.uv or vim.loop -- vim.loop is deprecated from 0.10

M.enabled = true

-- What happened on this side, for tests and statuslines; the server keeps
-- its own counters (sc2/status).
M.stats = { requests = 0, superseded = 0, stale = 0, empty = 0, shown = 0, accepted = 0 }

local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2

-- bufnr -> { timer, pending = request, shown = suggestion }
local buffers = {}

local function state(bufnr)
  local b = buffers[bufnr]
  if not b then
    b = { timer = uv.new_timer() }
    buffers[bufnr] = b
  end
  return b
end

-- The state a request or a suggestion is valid for; nil when `bufnr` is not
-- the buffer being edited, or while the completion menu is open (ghost text
-- would cover it, and <Tab> belongs to the menu then).
local function here(bufnr)
  if vim.api.nvim_get_current_buf() ~= bufnr or vim.api.nvim_get_mode().mode:sub(1, 1) ~= "i"
    or vim.fn.pumvisible() == 1 then
    return nil
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  return { tick = vim.api.nvim_buf_get_changedtick(bufnr), row = cursor[1] - 1, col = cursor[2] }
end

local function same(a, b)
  return a ~= nil and b ~= nil and a.tick == b.tick and a.row == b.row and a.col == b.col
end

local function cursor_line(bufnr, row)
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, true)[1]
end

local function uri(bufnr)
  return vim.uri_from_bufnr(bufnr)
end

local function show(bufnr, s, at)
  s.at = at
  s.line = cursor_line(bufnr, s.row)
  state(bufnr).shown = s
  ghost.show(bufnr, s)
end

local function hide(bufnr)
  if buffers[bufnr] then
    buffers[bufnr].shown = nil
  end
  ghost.clear(bufnr)
end

local function cancel_pending(b)
  local p = b.pending
  if p then
    b.pending = nil
    client.cancel(p.client, p.id)
  end
end

local function on_response(bufnr, request, err, result)
  local b = buffers[bufnr]
  if not b or b.pending ~= request then
    M.stats.superseded = M.stats.superseded + 1
    return
  end
  b.pending = nil
  -- Errors (a cancellation, a failed generation) leave nothing to show; the
  -- server reports real trouble itself with window/showMessage.
  if err or type(result) ~= "table" then
    return
  end
  local at = here(bufnr)
  if not (M.enabled and same(at, request)) then
    M.stats.stale = M.stats.stale + 1
    return
  end
  local item = (result.items or result)[1]
  local encoding = client.encoding(request.client)
  local s = item and suggestion.from_item(item, cursor_line(bufnr, at.row), at.row, at.col, encoding)
  if not s then
    M.stats.empty = M.stats.empty + 1
    return
  end
  show(bufnr, s, at)
  M.stats.shown = M.stats.shown + 1
  client.notify(request.client, "sc2/didShowCompletion", { uri = uri(bufnr), text = s.text })
end

-- Asks the server now for a suggestion at the cursor. A newer request
-- cancels the one in flight (the server also lets the latest win).
function M.request(bufnr, trigger_kind)
  local b = buffers[bufnr]
  if not b then
    return -- not a buffer sc2-lsp is attached to
  end
  b.timer:stop()
  local c = client.get(bufnr)
  local at = here(bufnr)
  if not (M.enabled and c and at) then
    return
  end
  cancel_pending(b)
  local line = cursor_line(bufnr, at.row)
  local params = {
    textDocument = { uri = uri(bufnr) },
    position = { line = at.row, character = position.to_lsp(line, at.col, client.encoding(c)) },
    context = { triggerKind = trigger_kind or TRIGGER_INVOKED },
  }
  local request = { client = c, tick = at.tick, row = at.row, col = at.col }
  local ok, id = client.request(c, "textDocument/inlineCompletion", params, function(err, result)
    on_response(bufnr, request, err, result)
  end, bufnr)
  if ok then
    request.id = id
    b.pending = request
    M.stats.requests = M.stats.requests + 1
  end
end

-- After a keystroke or cursor move: keep what still fits, then ask again
-- once typing pauses.
function M.on_change(bufnr)
  if not M.enabled then
    return
  end
  local b = state(bufnr)
  local at = here(bufnr)
  local s = b.shown
  if s and same(s.at, at) then
    return -- the change was ours: a partial accept that left `s` showing
  end
  if s then
    -- Typing the start of the suggestion keeps the rest on screen at once
    -- instead of blanking it until the server answers.
    local rest = at and at.row == s.row and suggestion.type_through(s, cursor_line(bufnr, at.row), at.col)
    if rest then
      show(bufnr, rest, at)
    else
      hide(bufnr)
    end
  end
  b.timer:stop()
  b.timer:start(config.options.debounce_ms, 0, vim.schedule_wrap(function()
    if buffers[bufnr] == b then
      M.request(bufnr, TRIGGER_AUTOMATIC)
    end
  end))
end

-- The suggestion shown in `bufnr` for the current state, or nil.
function M.current(bufnr)
  local b = buffers[bufnr]
  local s = b and b.shown
  if s and same(s.at, here(bufnr)) then
    return s
  end
  return nil
end

-- Inserts the part of the shown suggestion that `pick` selects from its
-- text; what is left stays shown. False when nothing is shown.
function M.accept(bufnr, pick)
  local s = M.current(bufnr)
  if not s then
    return false
  end
  local part = pick(s.text)
  local edit, rest = suggestion.advance(s, part)
  hide(bufnr)
  vim.api.nvim_buf_set_text(bufnr, edit.row, edit.col, edit.row, edit.end_col, edit.lines)
  vim.api.nvim_win_set_cursor(0, { edit.cursor[1] + 1, edit.cursor[2] })
  if rest then
    show(bufnr, rest, here(bufnr))
  end
  M.stats.accepted = M.stats.accepted + 1
  local c = client.get(bufnr)
  if c then
    client.notify(c, "sc2/didAcceptCompletion", { uri = uri(bufnr), acceptedLength = vim.fn.strchars(part) })
  end
  return true
end

-- Hides the suggestion and stops any request for it. Returns whether a
-- suggestion was showing.
function M.dismiss(bufnr)
  local b = buffers[bufnr]
  if not b then
    return false
  end
  local was_shown = M.current(bufnr) ~= nil
  b.timer:stop()
  cancel_pending(b)
  hide(bufnr)
  return was_shown
end

function M.forget(bufnr)
  local b = buffers[bufnr]
  if b then
    M.dismiss(bufnr)
    b.timer:close()
    buffers[bufnr] = nil
  end
end

function M.set_enabled(on)
  M.enabled = on
  if not on then
    for bufnr in pairs(buffers) do
      M.dismiss(bufnr)
    end
  end
end

-- Wires the cycle to the buffer's insert-mode events.
function M.attach(bufnr, group)
  state(bufnr)
  local function on(events, fn)
    vim.api.nvim_create_autocmd(events, {
      group = group,
      buffer = bufnr,
      callback = function()
        fn(bufnr)
      end,
    })
  end
  on({ "InsertEnter", "TextChangedI", "CursorMovedI", "CompleteChanged" }, M.on_change)
  -- CursorMoved (normal mode) too: on 0.7, <C-c> leaves insert mode
  -- without InsertLeave or ModeChanged.
  on({ "BufLeave", "CursorMoved" }, M.dismiss)
  on({ "BufWipeout" }, M.forget)
  -- Not InsertLeave: also <C-o> and other ways out of plain insert mode.
  on({ "ModeChanged" }, function()
    if vim.v.event.new_mode:sub(1, 1) ~= "i" then
      M.dismiss(bufnr)
    end
  end)
end

return M
