/**
 * Acceptance reporting. VS Code runs an inline item's `command` after the
 * user accepts the whole suggestion (Tab), and never on dismissal, so
 * wrapping each item's command is the one place that sees acceptance without
 * proposed APIs. No `vscode` import: the item shapes are structural.
 */

/** Internal command bound by the extension; not in the command palette. */
export const ACCEPT_COMMAND = 'sc2.didAcceptCompletion';

export interface CommandLike {
  command: string;
  title: string;
  arguments?: unknown[];
}

export interface InlineItemLike {
  insertText: string | { value: string };
  command?: CommandLike;
}

/** What the accept command receives: the notification's params and the item's own command to run after. */
export interface Acceptance {
  uri: string;
  acceptedLength: number;
  then?: CommandLike;
}

export function insertTextOf(item: InlineItemLike): string {
  return typeof item.insertText === 'string' ? item.insertText : item.insertText.value;
}

/** Point every item's command at ACCEPT_COMMAND, keeping a server-set command to run after it. */
export function attachAcceptance<T extends InlineItemLike>(items: T[], uri: string): T[] {
  for (const item of items) {
    const acceptance: Acceptance = { uri, acceptedLength: insertTextOf(item).length, then: item.command };
    item.command = { command: ACCEPT_COMMAND, title: 'sc2: suggestion accepted', arguments: [acceptance] };
  }
  return items;
}
