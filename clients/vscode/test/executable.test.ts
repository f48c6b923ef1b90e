import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { resolveExecutable } from '../src/executable';

function fixture() {
  const root = mkdtempSync(join(tmpdir(), 'sc2-exe-'));
  for (const dir of ['a', 'b', 'venv/bin']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'a', 'sc2-lsp'), 'not executable');
  for (const file of ['b/sc2-lsp', 'venv/bin/sc2-lsp']) {
    writeFileSync(join(root, file), '#!/bin/sh\n');
    chmodSync(join(root, file), 0o755);
  }
  return root;
}

test('a bare name is looked up on PATH, skipping files that are not executable', () => {
  const root = fixture();
  const searchPath = [join(root, 'a'), join(root, 'b')].join(delimiter);
  assert.equal(resolveExecutable('sc2-lsp', searchPath, '/', 'linux'), join(root, 'b', 'sc2-lsp'));
  assert.equal(resolveExecutable('sc2-lsp', join(root, 'a'), '/', 'linux'), undefined);
});

test('paths are taken as is, relative ones from the working directory', () => {
  const root = fixture();
  assert.equal(resolveExecutable(join(root, 'venv/bin/sc2-lsp'), '', '/', 'linux'), join(root, 'venv/bin/sc2-lsp'));
  assert.equal(resolveExecutable('venv/bin/sc2-lsp', '', root, 'linux'), join(root, 'venv/bin/sc2-lsp'));
  assert.equal(resolveExecutable('venv/bin/missing', '', root, 'linux'), undefined);
  assert.equal(resolveExecutable(join(root, 'venv/bin'), '', '/', 'linux'), undefined, 'a directory is not a program');
});

test('Windows commands are trusted as given', () => {
  assert.equal(resolveExecutable('sc2-lsp', '', 'C:\\', 'win32'), 'sc2-lsp');
});
