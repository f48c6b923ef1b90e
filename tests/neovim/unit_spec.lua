-- Unit checks of the plugin's pure modules (suggestion model, positions,
-- ghost rendering), run in headless Neovim by test_units.py. Prints one line
-- per failure and exits non-zero if any.
local S = require("sc2_lsp.suggestion")
local P = require("sc2_lsp.position")
local ghost = require("sc2_lsp.ghost")

local failures = 0
local function eq(got, want, name)
  if vim.inspect(got) ~= vim.inspect(want) then
    failures = failures + 1
    io.stderr:write(("FAIL %s: got %s, want %s\n"):format(name, vim.inspect(got), vim.inspect(want)))
  end
end

local function item(text, s, e)
  return { insertText = text, range = s and { start = { line = 0, character = s }, ["end"] = { line = 0, character = e } } }
end

-- Positions: "é" is 2 bytes, 1 UTF-16 unit; "𝒳" is 4 bytes, 2 units, 1 code point.
local line = "é𝒳x"
eq(P.to_lsp(line, 6, "utf-16"), 3, "utf-16 units before x")
eq(P.to_lsp(line, 6, "utf-32"), 2, "utf-32 units before x")
eq(P.to_lsp(line, 6, "utf-8"), 6, "utf-8 units before x")
eq(P.to_byte(line, 3, "utf-16"), 6, "utf-16 -> byte")
eq(P.to_byte(line, 2, "utf-32"), 6, "utf-32 -> byte")
eq(P.to_byte(line, 50, "utf-16"), #line, "past the end clamps")

-- Items: no range inserts at the cursor.
eq(S.from_item(item("x + 1"), "return ", 0, 7, "utf-16"),
  { row = 0, col = 7, text = "x + 1", old = "" }, "plain insert")
-- A range that re-sends the typed part and replaces an auto-closed paren.
eq(S.from_item(item("foo(a, b)", 0, 5), "foo()", 0, 4, "utf-16"),
  { row = 0, col = 4, text = "a, b)", old = ")" }, "range before and after cursor")
-- Ranges in UTF-16 on a line with non-ASCII text before the cursor.
eq(S.from_item(item("é = 1", 0, 1), "é", 0, 2, "utf-16"),
  { row = 0, col = 2, text = " = 1", old = "" }, "non-ASCII typed part")
eq(S.from_item(item("bar", 0, 3), "foo", 0, 3, "utf-16"), nil, "re-sent part that does not match")
eq(S.from_item(item(")", 0, 5), "foo()", 0, 4, "utf-16"), nil, "no change")
eq(S.from_item({ insertText = "x", range = { start = { line = 1, character = 0 }, ["end"] = { line = 1, character = 0 } } },
  "", 0, 0, "utf-16"), nil, "range on another line")
eq(S.from_item({ insertText = { kind = "snippet", value = "y" } }, "", 0, 0, "utf-16"),
  { row = 0, col = 0, text = "y", old = "" }, "StringValue")

-- Result lines: the rest of the line moves below a multi-line insertion.
local s = { row = 0, col = 4, text = "a,\n    b", old = "" }
eq(S.result_lines(s, "foo()"), { "a,", "    b)" }, "multi-line result")

-- Pieces.
eq(S.next_word("  foo.bar"), "  foo", "word")
eq(S.next_word(".bar"), ".", "punctuation")
eq(S.next_word("éa"), "é", "multibyte stays whole")
eq(S.next_word("\n    x"), "\n    ", "line break and indent")
eq(S.next_line("abc\ndef"), "abc", "line")
eq(S.next_line("\n  def\nx"), "\n  def", "leading break and the next line")

-- Advancing: insert, or type over the replaced paren.
local p = { row = 0, col = 4, text = "a)", old = ")" }
local edit, rest = S.advance(p, "a")
eq(edit, { row = 0, col = 4, end_col = 4, lines = { "a" }, cursor = { 0, 5 } }, "insert piece")
eq(rest, nil, "rest equal to old is nothing to show")
edit, rest = S.advance({ row = 0, col = 4, text = "a, b)", old = ")" }, "a,")
eq(rest, { row = 0, col = 6, text = " b)", old = ")" }, "rest after a piece")
edit, rest = S.advance({ row = 0, col = 4, text = ")  # done", old = ")" }, ")")
eq(edit.end_col, 5, "overtype the paren")
eq(rest, { row = 0, col = 5, text = "  # done", old = "" }, "rest after overtype")
edit, rest = S.advance({ row = 2, col = 3, text = "x\n  y", old = "" }, "x\n")
eq(edit.cursor, { 3, 0 }, "cursor after a line break")
eq(rest, { row = 3, col = 0, text = "  y", old = "" }, "rest on the next line")

-- Typing through.
local shown = { row = 0, col = 7, text = "x + 1", old = "", line = "return " }
eq(S.type_through(shown, "return x", 8), { row = 0, col = 8, text = " + 1", old = "" }, "typed the start")
eq(S.type_through(shown, "return y", 8), nil, "typed something else")
eq(S.type_through(shown, "return x + 1", 12), nil, "typed all of it")

-- Ghost text: overlay of the final line, tabs expanded, lines below.
vim.cmd("enew")
vim.bo.tabstop = 8
vim.api.nvim_buf_set_lines(0, 0, -1, true, { "\tfoo()" })
ghost.show(0, { row = 0, col = 5, text = "a,\n\tb", old = "" })
local marks = vim.api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, { details = true })
eq(#marks, 1, "one extmark")
eq({ marks[1][2], marks[1][3] }, { 0, 5 }, "at the cursor")
eq(marks[1][4].virt_text, { { "a,", "SC2Suggestion" } }, "first line")
eq(marks[1][4].virt_text_pos, "overlay", "overlay")
eq(marks[1][4].virt_lines, { { { "        b)", "SC2Suggestion" } } }, "lines below")
-- A shorter final line is padded to hide the old text after the cursor.
vim.api.nvim_buf_set_lines(0, 0, -1, true, { "f(xyz)" })
ghost.show(0, { row = 0, col = 2, text = "a)", old = "xyz)" })
marks = vim.api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, { details = true })
eq(marks[1][4].virt_text, { { "a)  ", "SC2Suggestion" } }, "padding")
ghost.clear(0)
eq(#vim.api.nvim_buf_get_extmarks(0, ghost.ns, 0, -1, {}), 0, "cleared")

-- setup() replaces lists rather than merging them index by index.
local config = require("sc2_lsp.config")
config.set({ filetypes = { "lua" }, keymaps = { accept = "<C-y>" } })
eq(config.options.filetypes, { "lua" }, "filetypes replaced")
eq(config.options.keymaps.accept, "<C-y>", "keymap overridden")
eq(config.options.keymaps.dismiss, "<C-]>", "other keymaps kept")

vim.cmd("cquit " .. (failures > 0 and 1 or 0))
