import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyProgress, fromStatusResponse, render, ServerState, shortModelName, StatusResponse } from '../src/status';

const READY: StatusResponse = {
  state: 'ready',
  model: '/work/main/model/sc2-mini',
  device: 'cpu',
  quant: 'none',
  memory_mb: 41.6,
  error: null,
  counters: {
    requests: 12,
    model_calls: 7,
    cache_hits: 3,
    typing_through: 2,
    mean_ms: 80.4,
    p95_ms: 151.2,
    shown: 9,
    accepted: 4,
  },
  last: { total_ms: 83.7, source: 'model' },
};

test('loading shows the $/progress percentage as it arrives', () => {
  let state: ServerState = { kind: 'starting' };
  assert.equal(render(state, true).text, '$(loading~spin) sc2: starting');
  state = applyProgress(state, { kind: 'begin', title: 'Loading model', percentage: 0 });
  assert.equal(render(state, true).text, '$(loading~spin) sc2: loading 0%');
  state = applyProgress(state, { kind: 'report', percentage: 42.4, message: 'weights' });
  assert.equal(render(state, true).text, '$(loading~spin) sc2: loading 42%');
  assert.match(render(state, true).tooltip, /weights/);
  state = applyProgress(state, { kind: 'report' });
  assert.equal(render(state, true).text, '$(loading~spin) sc2: loading 42%', 'a report without a percentage keeps the last one');
  state = applyProgress(state, { kind: 'end' });
  assert.equal(render(state, true).text, '$(loading~spin) sc2: loading 100%');
});

test('sc2/status "loading" keeps the percentage that progress gave', () => {
  const loading: ServerState = { kind: 'loading', percent: 60 };
  assert.deepEqual(fromStatusResponse({ state: 'loading' }, loading), loading);
  assert.deepEqual(fromStatusResponse({ state: 'loading' }, { kind: 'starting' }), { kind: 'loading' });
});

test('ready shows the model name and the last latency', () => {
  const state = fromStatusResponse(READY, { kind: 'loading', percent: 100 });
  const view = render(state, true);
  assert.equal(view.text, '$(sparkle) sc2: sc2-mini · 84 ms');
  assert.equal(view.severity, 'normal');
  assert.match(view.tooltip, /Model: \/work\/main\/model\/sc2-mini/);
  assert.match(view.tooltip, /Runs on: cpu, 42 MB/);
  assert.match(view.tooltip, /Requests: 12 \(model 7, cache 3, typing-through 2\)/);
  assert.match(view.tooltip, /mean 80 ms, p95 151 ms/);
  assert.match(view.tooltip, /Accepted: 4 of 9 shown/);
  assert.match(view.tooltip, /Click to turn inline suggestions off/);
});

test('ready before any completion shows no latency', () => {
  const view = render({ kind: 'ready', status: { state: 'ready', model: 'random:tiny', last: null } }, true);
  assert.equal(view.text, '$(sparkle) sc2: random:tiny');
});

test('disabled suggestions say off and how to turn them on', () => {
  const view = render({ kind: 'ready', status: READY }, false);
  assert.equal(view.text, '$(circle-slash) sc2: off');
  assert.equal(view.severity, 'warning');
  assert.match(view.tooltip, /Click to turn inline suggestions on/);
});

test('a failed load is an error with the server message', () => {
  const state = fromStatusResponse({ state: 'error', error: 'no checkpoint at /nope' }, { kind: 'loading' });
  const view = render(state, true);
  assert.equal(view.text, '$(error) sc2: error');
  assert.equal(view.severity, 'error');
  assert.match(view.tooltip, /no checkpoint at \/nope/);
});

test('late progress does not undo ready; a new begin (model change) does', () => {
  const ready: ServerState = { kind: 'ready', status: READY };
  assert.equal(applyProgress(ready, { kind: 'report', percentage: 50 }), ready);
  assert.equal(applyProgress(ready, { kind: 'end' }), ready);
  assert.deepEqual(applyProgress(ready, { kind: 'begin', title: 'Loading model', percentage: 0 }), {
    kind: 'loading',
    percent: 0,
    message: 'Loading model',
  });
});

test('stopped server says so', () => {
  assert.equal(render({ kind: 'stopped' }, true).text, '$(debug-disconnect) sc2: stopped');
});

test('model names are shortened to their last path part', () => {
  assert.equal(shortModelName('/work/main/model/sc2-mini/'), 'sc2-mini');
  assert.equal(shortModelName('bigcode/starcoder2-3b'), 'starcoder2-3b');
  assert.equal(shortModelName('C:\\models\\sc2'), 'sc2');
  assert.equal(shortModelName('random:tiny'), 'random:tiny');
  assert.equal(shortModelName(undefined), 'model');
});
