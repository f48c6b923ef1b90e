import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  didChangeConfigurationParams,
  documentSelector,
  SERVER_KEYS,
  serverExecutable,
  toInitializationOptions,
} from '../src/settings';

test('initializationOptions carry the server keys the user set, and nothing else', () => {
  const section = {
    enable: true,
    serverCommand: ['sc2-lsp', 'serve'],
    languages: ['python'],
    model: ' /models/starcoder2-3b ',
    quant: 'nf4',
    dtype: null,
    device: '',
    contextTokens: 2048,
    suffixFraction: 0.25,
    maxNewTokens: 64,
    multiline: 'never',
    temperature: 0,
    kvReuse: false,
    cacheSize: undefined,
    deadlineMs: 1500,
  };
  assert.deepEqual(toInitializationOptions(section), {
    model: '/models/starcoder2-3b',
    quant: 'nf4',
    contextTokens: 2048,
    suffixFraction: 0.25,
    maxNewTokens: 64,
    multiline: 'never',
    temperature: 0,
    kvReuse: false,
    deadlineMs: 1500,
  });
});

test('all-default settings send an empty object, so the server defaults apply', () => {
  const defaults = Object.fromEntries(SERVER_KEYS.map((key) => [key, null]));
  assert.deepEqual(toInitializationOptions({ ...defaults, enable: true }), {});
});

test('didChangeConfiguration names every server key under settings.sc2, null where unset', () => {
  const { sc2 } = didChangeConfigurationParams({ model: 'random:tiny', maxNewTokens: 8, quant: '', enable: false }).settings;
  assert.deepEqual(Object.keys(sc2), [...SERVER_KEYS]);
  assert.deepEqual(
    Object.fromEntries(Object.entries(sc2).filter(([, value]) => value !== null)),
    { model: 'random:tiny', maxNewTokens: 8 },
  );
  assert.equal(sc2.quant, null);
});

test('package.json contributes every server key with a null default', () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const properties = manifest.contributes.configuration.properties;
  for (const key of SERVER_KEYS) {
    assert.ok(properties[`sc2.${key}`], `sc2.${key} is not contributed`);
    assert.equal(properties[`sc2.${key}`].default, null, `sc2.${key} must default to null (server default)`);
  }
  assert.deepEqual(properties['sc2.serverCommand'].default, ['sc2-lsp', 'serve']);
  assert.equal(properties['sc2.enable'].default, true);
  assert.ok(properties['sc2.languages'].default.includes('python'));
});

test('serverCommand splits into program and arguments', () => {
  assert.deepEqual(serverExecutable(['/venv/bin/sc2-lsp', 'serve', '--device', 'cpu']), {
    command: '/venv/bin/sc2-lsp',
    args: ['serve', '--device', 'cpu'],
  });
});

test('a bad serverCommand is refused with a message naming the setting', () => {
  for (const bad of [[], 'sc2-lsp serve', [''], [1, 2], null]) {
    assert.throws(() => serverExecutable(bad), /sc2\.serverCommand/);
  }
});

test('documentSelector covers files and untitled buffers of each language once', () => {
  assert.deepEqual(documentSelector(['python', 'go', 'python', '', 7]), [
    { language: 'python', scheme: 'file' },
    { language: 'python', scheme: 'untitled' },
    { language: 'go', scheme: 'file' },
    { language: 'go', scheme: 'untitled' },
  ]);
  assert.throws(() => documentSelector('python'), /sc2\.languages/);
});
