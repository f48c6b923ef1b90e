-- Conversions between Neovim byte columns and LSP `character` offsets in the
-- negotiated position encoding. Buffers hold UTF-8; the server counts UTF-16
-- code units unless utf-8/utf-32 was agreed, so a non-ASCII character before
-- the cursor must never shift the position.
local M = {}

-- vim.str_utfindex/str_byteindex changed signature in 0.11.
local new_api = vim.fn.has("nvim-0.11") == 1

-- Number of `encoding` units in line[1..byte_col].
function M.to_lsp(line, byte_col, encoding)
  if encoding == "utf-8" then
    return byte_col
  end
  if new_api then
    return vim.str_utfindex(line, encoding, byte_col, false)
  end
  local utf32, utf16 = vim.str_utfindex(line, byte_col)
  return encoding == "utf-32" and utf32 or utf16
end

-- Byte column of an offset in `encoding` units; past the end clamps to the
-- end of the line (servers may point just past a line they saw longer).
function M.to_byte(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  if new_api then
    return vim.str_byteindex(line, encoding, character, false)
  end
  local ok, byte = pcall(vim.str_byteindex, line, character, encoding ~= "utf-32")
  return ok and byte or #line
end

return M
