-- The suggestion model, pure functions on strings: no buffers, no UI.
--
-- A suggestion is normalised to "at (row, col) insert `text`, replacing
-- `old`", where `old` is the text right after the cursor on the same line
-- that the server's range covers (e.g. an auto-closed `)`). The part of a
-- range before the cursor, which the server re-sends, is stripped so that
-- what remains is exactly what the user has not typed yet.
local position = require("sc2_lsp.position")

local M = {}

-- Builds a suggestion from an InlineCompletionItem returned for the cursor
-- (row, col) on `line`; nil when it cannot be shown as ghost text there.
function M.from_item(item, line, row, col, encoding)
  local text = item.insertText
  if type(text) == "table" then
    text = text.value -- a StringValue snippet: shown and inserted as typed
  end
  if type(text) ~= "string" then
    return nil
  end
  local first, last = col, col
  if item.range then
    local s, e = item.range.start, item.range["end"]
    if s.line ~= row or e.line ~= row then
      return nil
    end
    first = position.to_byte(line, s.character, encoding)
    last = position.to_byte(line, e.character, encoding)
  end
  if first > col or last < col then
    return nil
  end
  local typed = line:sub(first + 1, col)
  if text:sub(1, #typed) ~= typed then
    return nil
  end
  text = text:sub(#typed + 1)
  local old = line:sub(col + 1, last)
  if text == old then
    return nil -- accepting it would change nothing
  end
  return { row = row, col = col, text = text, old = old }
end

-- The buffer lines from the cursor on, as they will read once `s` is
-- accepted on `line`: the first entry continues the cursor line.
function M.result_lines(s, line)
  local lines = vim.split(s.text, "\n", { plain = true })
  lines[#lines] = lines[#lines] .. line:sub(s.col + #s.old + 1)
  return lines
end

-- The next line of the suggestion: up to its first line break, or, when it
-- starts with one, that break and the line after it.
function M.next_line(text)
  return text:match("^\n?[^\n]*")
end

-- The next word: leading blanks plus a run of word characters or a run of
-- punctuation (multibyte characters stay whole: their bytes are all >= 128),
-- or a line break with the next line's indentation.
function M.next_word(text)
  return text:match("^[ \t]*[%w_]+")
    or text:match("^[ \t]*[^%w_%s]+")
    or text:match("^\n[ \t]*")
    or text
end

-- What remains of `s`, shown on `s.line`, after the user typed its first
-- characters: `line` is the cursor line now, the cursor at byte `col` on the
-- same row. nil unless the only change is typed text matching `s`.
function M.type_through(s, line, col)
  if col <= s.col or line:sub(1, s.col) ~= s.line:sub(1, s.col) then
    return nil
  end
  local typed = line:sub(s.col + 1, col)
  if s.text:sub(1, #typed) ~= typed or line:sub(col + 1) ~= s.line:sub(s.col + 1) then
    return nil
  end
  local text = s.text:sub(#typed + 1)
  if text == s.old then
    return nil
  end
  return { row = s.row, col = col, text = text, old = s.old }
end

-- Accepting `part`, a prefix of s.text: the buffer edit to make and the
-- suggestion that remains (nil when nothing is left).
-- When `part` retypes the start of `old` (the `)` the server replaces), it is
-- typed over instead of inserted, as an editor's auto-pairs would.
function M.advance(s, part)
  local overtype = not part:find("\n", 1, true) and s.old:sub(1, #part) == part
  local edit = {
    row = s.row,
    col = s.col,
    end_col = overtype and s.col + #part or s.col,
    lines = vim.split(part, "\n", { plain = true }),
  }
  local n = #edit.lines
  local row = s.row + n - 1
  local col = (n == 1 and s.col or 0) + #edit.lines[n]
  edit.cursor = { row, col }
  local rest = {
    row = row,
    col = col,
    text = s.text:sub(#part + 1),
    old = overtype and s.old:sub(#part + 1) or s.old,
  }
  if rest.text == rest.old then
    rest = nil
  end
  return edit, rest
end

return M
