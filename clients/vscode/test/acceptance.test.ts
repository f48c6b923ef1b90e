import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Acceptance, ACCEPT_COMMAND, attachAcceptance, InlineItemLike } from '../src/acceptance';

test('each item reports its own length to the accept command', () => {
  const items: InlineItemLike[] = [{ insertText: 'return a + b' }, { insertText: { value: 'x = 1\ny = 2' } }];
  attachAcceptance(items, 'file:///w/main.py');
  assert.equal(items[0].command?.command, ACCEPT_COMMAND);
  assert.deepEqual(items[0].command?.arguments, [{ uri: 'file:///w/main.py', acceptedLength: 12, then: undefined }]);
  assert.equal((items[1].command?.arguments?.[0] as Acceptance).acceptedLength, 11);
});

test('a command the server set is kept, to run after reporting', () => {
  const serverCommand = { command: 'sc2.serverThing', title: 'x', arguments: [1] };
  const items: InlineItemLike[] = [{ insertText: 'pass', command: serverCommand }];
  const [item] = attachAcceptance(items, 'untitled:Untitled-1');
  assert.deepEqual((item.command?.arguments?.[0] as Acceptance).then, serverCommand);
});

test('lengths count UTF-16 code units, like LSP positions by default', () => {
  const items: InlineItemLike[] = [{ insertText: 'π = "😀"' }];
  const [item] = attachAcceptance(items, 'file:///a.py');
  assert.equal((item.command?.arguments?.[0] as Acceptance).acceptedLength, 8);
});
