/**
 * Reading and driving the VS Code workbench in the browser. Selectors are
 * VS Code 1.100's; they are the only place that knows the DOM.
 */
import type { Page } from 'playwright-core';

/** Chromium flags for a headless, sandbox-less, offline run (checked on these machines). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Open a file by clicking it in the Explorer: Ctrl+P is taken by the browser. */
export async function openFromExplorer(page: Page, name: string): Promise<void> {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: 120_000 });
  await row.click();
  await page.locator(`.tab[aria-label^="${name}"]`).first().waitFor({ timeout: 60_000 });
}

/** The extension's status bar item (its text starts with "sc2:"). */
export function sc2StatusItem(page: Page) {
  return page.locator('.statusbar-item', { hasText: 'sc2:' }).first();
}

/**
 * Wait until the status bar leaves starting/loading (or matches `settled`).
 * Returns the final text and every distinct text seen on the way (the
 * `$/progress` percentages).
 */
export async function waitForServerSettled(
  page: Page,
  timeoutMs: number,
  settled = /sc2: (?!starting|loading)/,
): Promise<{ final: string; seen: string[] }> {
  const item = sc2StatusItem(page);
  await item.waitFor({ timeout: 120_000 });
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  for (;;) {
    const text = (await item.innerText()).trim();
    if (seen[seen.length - 1] !== text) {
      seen.push(text);
    }
    if (settled.test(text)) {
      return { final: text, seen };
    }
    if (Date.now() > deadline) {
      throw new Error(`sc2 status still "${text}" after ${timeoutMs} ms (seen: ${seen.join(' → ')})`);
    }
    await page.waitForTimeout(100);
  }
}

/** Run a command from the palette (F1: the browser keeps Ctrl+Shift+P for itself in some setups). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 30_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
}

/**
 * The ghost text now shown: the part inline on the cursor line, then the
 * lines VS Code 1.100 renders in a view zone below it (its
 * `.suggest-preview-text` block). Spaces come back as NBSP.
 */
export async function ghostText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const editor = document.querySelector('.editor-instance .monaco-editor') ?? document;
    const inline = [...editor.querySelectorAll('.view-lines .ghost-text-decoration')].map((el) => el.textContent ?? '');
    const below = [...editor.querySelectorAll('.view-zones .suggest-preview-text .view-line')].map(
      (el) => el.textContent ?? '',
    );
    return [inline.join(''), ...below].join('\n').replace(/\u00a0/g, ' ');
  });
}

/** "Ln 7, Col 12" from the status bar, as 1-based numbers. */
export async function cursorPosition(page: Page): Promise<{ line: number; column: number }> {
  const text = await page.locator('[id="status.editor.selection"]').innerText();
  const match = /Ln (\d+), Col (\d+)/.exec(text);
  if (!match) {
    throw new Error(`unexpected cursor status "${text}"`);
  }
  return { line: Number(match[1]), column: Number(match[2]) };
}
