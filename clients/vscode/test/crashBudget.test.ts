import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CrashBudget } from '../src/crashBudget';

test('restarts four crashes in a row, not the fifth', () => {
  const budget = new CrashBudget(4, 180_000, () => 0);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => budget.allowRestart()), [true, true, true, true, false]);
});

test('crashes older than the window are forgiven', () => {
  let clock = 0;
  const budget = new CrashBudget(2, 1000, () => clock);
  assert.equal(budget.allowRestart(), true);
  assert.equal(budget.allowRestart(), true);
  clock = 1500;
  assert.equal(budget.allowRestart(), true);
});
