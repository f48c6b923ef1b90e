/**
 * End to end in real VS Code: code-server 4.100.3 in headless Chromium, the
 * extension installed from the built .vsix, the real sc2-lsp server. Types in
 * a Python file, checks the ghost text against `sc2-lsp complete` on the same
 * buffer, accepts it with Tab and checks the saved file and the cursor.
 *
 * Environment: CODE_SERVER_ENTRY (from scripts/install-code-server.sh),
 * SC2_VSIX (default dist/sc2-lsp.vsix), SC2_LSP (default <repo>/.venv/bin/sc2-lsp),
 * SC2_E2E_MODEL (optional; default: a snapshot of the embedded model/sc2-mini,
 * so that the editor's server and the CLI see the same weights even while the
 * model is being retrained).
 * Screenshots and logs go to <repo>/tests/artifacts/vscode/.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { chromium, Page } from 'playwright-core';
import { findDescendants, installExtension, Profile, reap, startCodeServer } from './codeServer';
import { applyCompletion, completeWithCli } from './sc2Cli';
import {
  CHROMIUM_ARGS,
  cursorPosition,
  ghostText,
  openFromExplorer,
  runCommand,
  sc2StatusItem,
  waitForServerSettled,
} from './workbench';

const CLIENT_DIR = resolve(__dirname, '..', '..');
const REPO = resolve(CLIENT_DIR, '..', '..');
const ARTIFACTS = join(REPO, 'tests', 'artifacts', 'vscode');
const SC2_LSP = process.env.SC2_LSP ?? join(REPO, '.venv', 'bin', 'sc2-lsp');
const VSIX = process.env.SC2_VSIX ?? join(CLIENT_DIR, 'dist', 'sc2-lsp.vsix');
const EMBEDDED_MODEL = join(REPO, 'model', 'sc2-mini');

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
/**
 * What the user types there, in order of preference: the first one the model
 * has a suggestion for is used (an early or tiny model may have nothing to
 * say after some of them).
 */
const CANDIDATES = ['return math.pi * ', 'return ', 'area = ', 'r = '];

/** Editor settings that keep the run deterministic: no other popups competing for Tab, no auto-inserted text. */
function userSettings(model: string): Record<string, unknown> {
  return {
    'sc2.serverCommand': [SC2_LSP, 'serve'],
    'sc2.model': model,
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
  const model = process.env.SC2_E2E_MODEL || join(tmp, 'model', 'sc2-mini');
  if (!process.env.SC2_E2E_MODEL) {
    await cp(EMBEDDED_MODEL, model, { recursive: true });
  }
  await writeFile(join(workspace, FILE), BEFORE);
  await mkdir(join(profile.userDataDir, 'User'), { recursive: true });
  await writeFile(join(profile.userDataDir, 'User', 'settings.json'), JSON.stringify(userSettings(model), null, 2));

  const line = BEFORE.split('\n').length - 1;
  // The reference completion runs while code-server starts and loads the model.
  const referenceRun = pickCandidate(tmp, line, model);
  referenceRun.catch(() => undefined); // awaited (and reported) in its own step

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
    // Each step on its own: a failed log copy must not leave code-server running.
    let servers: number[] = [];
    const steps = [
      () => writeFile(join(ARTIFACTS, 'browser-console.log'), consoleLog.join('\n')),
      () => copyExtensionLogs(profile.userDataDir),
      async () => {
        servers = await findDescendants(server.pid, /sc2-lsp serve/);
      },
      () => browser.close(),
      () => server.stop(),
      () => reap(servers, 10_000),
      () => rm(tmp, { recursive: true, force: true }),
    ];
    for (const step of steps) {
      await step().catch((error: unknown) => console.error(`e2e cleanup: ${String(error)}`));
    }
  });

  await t.test('the server loads and the status bar says ready', async () => {
    await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}`);
    await openFromExplorer(page, FILE);
    await page.screenshot({ path: join(ARTIFACTS, '01-opened.png') });
    const status = await waitForServerSettled(page, 300_000);
    await page.screenshot({ path: join(ARTIFACTS, '02-ready.png') });
    assert.match(status.final, /sc2: (?!error|stopped|off)/, `status bar: ${status.seen.join(' → ')}`);
    // The model takes seconds to load, so the $/progress percentage must have shown.
    assert.ok(
      status.seen.some((text) => /sc2: loading \d+%/.test(text)),
      `no loading percentage in ${status.seen.join(' → ')}`,
    );
  });

  let expected: { text: string; cursor: number } | undefined;

  await t.test('typing shows the ghost text `sc2-lsp complete` gives for the same buffer', async () => {
    const reference = await referenceRun;
    await page.locator('.editor-instance .view-lines').click();
    await page.keyboard.press('Control+End');
    // One input event, like a paste or a fast typist between two requests:
    // typed key by key, an earlier suggestion could be typed through (the
    // server then answers with its rest, by design), and `sc2-lsp complete`
    // has no such history to compare with.
    await page.keyboard.insertText(reference.typed);
    const shown = await waitForGhostText(page, reference.completion.text, 180_000);
    await page.screenshot({ path: join(ARTIFACTS, '03-ghost-text.png') });
    assert.equal(shown.trimEnd(), reference.completion.text.trimEnd());
    expected = applyCompletion(reference.buffer, line, reference.character, reference.completion);
  });

  await t.test('Tab accepts: cursor after the suggestion, saved file has it', async () => {
    assert.ok(expected, 'no suggestion to accept');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+S');
    const saved = await waitForFile(join(workspace, FILE), (text) => text === expected?.text, 30_000);
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

  await t.test('"sc2-lsp: Restart Server" restarts it and it loads again', async () => {
    await runCommand(page, 'sc2-lsp: Restart Server');
    await page.waitForFunction(() => /sc2: (starting|loading)/.test(document.body.innerText), undefined, {
      timeout: 30_000,
    });
    const status = await waitForServerSettled(page, 300_000);
    await page.screenshot({ path: join(ARTIFACTS, '07-restarted.png') });
    assert.match(status.final, /sc2: (?!error|stopped|off)/, `status bar: ${status.seen.join(' → ')}`);
  });

  await t.test('a crashed server is restarted and loads again', async () => {
    const [pid] = await findDescendants(server.pid, /sc2-lsp serve/);
    assert.ok(pid, 'no sc2-lsp serve process under code-server');
    process.kill(pid, 'SIGKILL');
    await page.waitForFunction(() => /sc2: (stopped|starting|loading)/.test(document.body.innerText), undefined, {
      timeout: 30_000,
    });
    const status = await waitForServerSettled(page, 300_000, /sc2: (?!starting|loading|stopped)/);
    assert.match(status.final, /sc2: (?!error|stopped|off)/, `status bar: ${status.seen.join(' → ')}`);
    const [newPid] = await findDescendants(server.pid, /sc2-lsp serve/);
    assert.ok(newPid && newPid !== pid, 'the server was not restarted');
  });

  await t.test('a serverCommand that does not exist turns the status bar to error', async () => {
    // Edited the way a user does it: code-server does not notice the file changing behind its back.
    const settings = { ...userSettings(model), 'sc2.serverCommand': [join(tmp, 'no-such-sc2-lsp'), 'serve'] };
    await runCommand(page, 'Preferences: Open User Settings (JSON)');
    await page.locator('.tab[aria-label^="settings.json"]').first().waitFor({ timeout: 30_000 });
    await page.locator('.editor-instance .view-lines').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify(settings)); // one line: typed newlines would auto-indent
    await page.keyboard.press('Control+S');
    const file = join(profile.userDataDir, 'User', 'settings.json');
    const saved = await waitForFile(file, (text) => text.includes('no-such-sc2-lsp'), 30_000);
    assert.deepEqual(JSON.parse(saved), settings, 'settings.json as saved from the editor');
    const status = await waitForServerSettled(page, 60_000, /sc2: error/);
    assert.match(status.final, /sc2: error/);
    await page.locator('.notifications-toasts', { hasText: 'no-such-sc2-lsp' }).first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500); // let the toast finish fading in for the screenshot
    await page.screenshot({ path: join(ARTIFACTS, '08-bad-server-command.png') });
  });
});

/**
 * The first typed candidate for which `sc2-lsp complete` suggests something,
 * run on a copy of the workspace with the same folder name and file path so
 * that the prompt's repo name and path match the editor's.
 */
async function pickCandidate(tmp: string, line: number, model: string) {
  const cliWorkspace = join(tmp, 'cli', 'project');
  await mkdir(cliWorkspace, { recursive: true });
  const tried: string[] = [];
  for (const typed of CANDIDATES) {
    const buffer = BEFORE + typed;
    const character = buffer.length - buffer.lastIndexOf('\n') - 1;
    await writeFile(join(cliWorkspace, FILE), buffer);
    const completion = await completeWithCli(SC2_LSP, join(cliWorkspace, FILE), line, character, {
      workspace: cliWorkspace,
      model,
    });
    if (completion.text.trim()) {
      return { typed, buffer, character, completion };
    }
    tried.push(`${JSON.stringify(typed)} → ${JSON.stringify(completion)}`);
  }
  throw new Error(`sc2-lsp complete suggested nothing after any candidate:\n${tried.join('\n')}`);
}

/**
 * Wait for the ghost text to read `wanted`. Right after typing, VS Code may
 * still show the suggestion for an earlier keystroke while the last request
 * runs, so a first mismatch is not a failure; only the timeout is.
 */
async function waitForGhostText(page: Page, wanted: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let shown = '';
  while (Date.now() < deadline) {
    shown = await ghostText(page);
    if (shown.trimEnd() === wanted.trimEnd()) {
      break;
    }
    await page.waitForTimeout(100);
  }
  return shown;
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
