/**
 * End to end in real VS Code: code-server 4.100.3 in headless Chromium, the
 * extension installed from the built .vsix, the real sc2-lsp server. Types in
 * a Python file, checks the ghost text against `sc2-lsp complete` on the same
 * buffer, accepts it with Tab and checks the saved file and the cursor.
 *
 * Environment: CODE_SERVER_ENTRY (from scripts/install-code-server.sh),
 * SC2_VSIX (default dist/sc2-lsp.vsix), SC2_LSP (default <repo>/.venv/bin/sc2-lsp),
 * SC2_E2E_MODEL (optional; else the server's default model).
 * Screenshots and logs go to <repo>/tests/artifacts/vscode/.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { installExtension, Profile, startCodeServer } from './codeServer';
import { applyCompletion, completeWithCli } from './sc2Cli';
import { CHROMIUM_ARGS, cursorPosition, ghostText, openFromExplorer, sc2StatusItem, waitForServerSettled } from './workbench';

const CLIENT_DIR = resolve(__dirname, '..', '..');
const REPO = resolve(CLIENT_DIR, '..', '..');
const ARTIFACTS = join(REPO, 'tests', 'artifacts', 'vscode');
const SC2_LSP = process.env.SC2_LSP ?? join(REPO, '.venv', 'bin', 'sc2-lsp');
const VSIX = process.env.SC2_VSIX ?? join(CLIENT_DIR, 'dist', 'sc2-lsp.vsix');
const MODEL = process.env.SC2_E2E_MODEL || undefined;

const FILE = 'geometry.py';
// Ends inside a function body, without a newline, so Ctrl+End puts the cursor
// after the indentation where the user starts typing.
const BEFORE = `"""Small geometry helpers."""
import math


def distance(x1, y1, x2, y2):
    """Euclidean distance between two points."""
    dx = x2 - x1
    dy = y2 - y1
    return math.sqrt(dx * dx + dy * dy)


def circle_area(radius):
    """Area of a circle."""
    `;
const TYPED = 'return math.pi';

/** Editor settings that keep the run deterministic: no other popups competing for Tab, no auto-inserted text. */
function userSettings(): Record<string, unknown> {
  return {
    'sc2.serverCommand': [SC2_LSP, 'serve'],
    ...(MODEL ? { 'sc2.model': MODEL } : {}),
    'editor.inlineSuggest.enabled': true,
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.autoClosingBrackets': 'never',
    'editor.autoClosingQuotes': 'never',
    'files.autoSave': 'off',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
  };
}

test('sc2-lsp in code-server: ghost text equals `sc2-lsp complete`, Tab accepts it', { timeout: 900_000 }, async (t) => {
  const entry = process.env.CODE_SERVER_ENTRY;
  assert.ok(entry, 'CODE_SERVER_ENTRY is not set: run clients/vscode/scripts/e2e.sh');
  await mkdir(ARTIFACTS, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'sc2-vscode-e2e-'));
  const workspace = join(tmp, 'project');
  const profile: Profile = { entry, userDataDir: join(tmp, 'user-data'), extensionsDir: join(tmp, 'extensions') };
  await mkdir(workspace);
  await writeFile(join(workspace, FILE), BEFORE);
  await mkdir(join(profile.userDataDir, 'User'), { recursive: true });
  await writeFile(join(profile.userDataDir, 'User', 'settings.json'), JSON.stringify(userSettings(), null, 2));

  await t.test('the .vsix installs', async () => {
    const out = await installExtension(profile, VSIX);
    assert.match(out, /was successfully installed/);
  });

  const server = await startCodeServer(profile, workspace, join(ARTIFACTS, 'code-server.log'));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const consoleLog: string[] = [];
  page.on('console', (message) => consoleLog.push(`[${message.type()}] ${message.text()}`));
  t.after(async () => {
    await writeFile(join(ARTIFACTS, 'browser-console.log'), consoleLog.join('\n'));
    await copyExtensionLogs(profile.userDataDir);
    await browser.close();
    await server.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  await t.test('the server loads and the status bar says ready', async () => {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await openFromExplorer(page, FILE);
    await page.screenshot({ path: join(ARTIFACTS, '01-opened.png') });
    const status = await waitForServerSettled(page, 300_000);
    await page.screenshot({ path: join(ARTIFACTS, '02-ready.png') });
    assert.match(status, /sc2: (?!error|stopped|off)/, `status bar: ${status}`);
  });

  const line = BEFORE.split('\n').length - 1;
  const character = BEFORE.length - BEFORE.lastIndexOf('\n') - 1 + TYPED.length;
  const buffer = BEFORE + TYPED;
  let expected: { text: string; cursor: number } | undefined;

  await t.test('typing shows the ghost text `sc2-lsp complete` gives for the same buffer', async () => {
    // The CLI gets the same workspace folder name and file path, so the prompt's repo and path match.
    const cliWorkspace = join(tmp, 'cli', 'project');
    await mkdir(cliWorkspace, { recursive: true });
    await writeFile(join(cliWorkspace, FILE), buffer);
    const reference = await completeWithCli(SC2_LSP, join(cliWorkspace, FILE), line, character, {
      workspace: cliWorkspace,
      model: MODEL,
    });
    assert.ok(reference.text.trim(), `sc2-lsp complete gave no text for this buffer: ${JSON.stringify(reference)}`);

    await page.locator('.editor-instance .view-lines').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(TYPED, { delay: 50 });
    const shown = await waitForStableGhostText(page, 120_000);
    await page.screenshot({ path: join(ARTIFACTS, '03-ghost-text.png') });
    assert.equal(shown.trimEnd(), reference.text.trimEnd());
    expected = applyCompletion(buffer, line, character, reference);
  });

  await t.test('Tab accepts: cursor after the suggestion, saved file has it', async () => {
    assert.ok(expected, 'no suggestion to accept');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+S');
    const saved = await waitForFile(join(workspace, FILE), (text) => text !== BEFORE, 30_000);
    await page.screenshot({ path: join(ARTIFACTS, '04-accepted.png') });
    assert.equal(saved, expected.text);
    const lines = expected.text.slice(0, expected.cursor).split('\n');
    assert.deepEqual(await cursorPosition(page), { line: lines.length, column: lines[lines.length - 1].length + 1 });
  });

  await t.test('the status bar reports the acceptance and toggles suggestions on click', async () => {
    const item = sc2StatusItem(page);
    await item.hover();
    const tooltip = page.locator('.workbench-hover, .monaco-hover').filter({ hasText: 'Accepted:' }).first();
    await tooltip.waitFor({ timeout: 30_000 });
    assert.match(await tooltip.innerText(), /Accepted: 1 of \d+ shown/);
    await page.screenshot({ path: join(ARTIFACTS, '05-status-tooltip.png') });
    await item.click();
    await page.waitForFunction(() => document.body.innerText.includes('sc2: off'), undefined, { timeout: 30_000 });
    await page.screenshot({ path: join(ARTIFACTS, '06-toggled-off.png') });
    await sc2StatusItem(page).click();
    await page.waitForFunction(() => !document.body.innerText.includes('sc2: off'), undefined, { timeout: 30_000 });
  });
});

/** The ghost text once it has stopped changing: each keystroke may briefly show an older suggestion. */
async function waitForStableGhostText(page: import('playwright-core').Page, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  while (Date.now() < deadline) {
    const now = await ghostText(page);
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (now.trim() && Date.now() - since > 1500) {
      return now;
    }
    await page.waitForTimeout(100);
  }
  throw new Error(`no stable ghost text within ${timeoutMs} ms (last seen: ${JSON.stringify(last)})`);
}

async function waitForFile(path: string, ready: (text: string) => boolean, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(path, 'utf8');
    if (ready(text) || Date.now() > deadline) {
      return text;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Keep the extension host's and the sc2-lsp output channel's logs with the screenshots. */
async function copyExtensionLogs(userDataDir: string): Promise<void> {
  const logs = join(userDataDir, 'logs');
  const files = await readdir(logs, { recursive: true }).catch(() => [] as string[]);
  for (const file of files) {
    if (/sc2-lsp.*\.log$|exthost\.log$/.test(file)) {
      await cp(join(logs, file), join(ARTIFACTS, file.replace(/[\\/]/g, '_')));
    }
  }
}
