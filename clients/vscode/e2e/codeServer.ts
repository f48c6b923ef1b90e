/**
 * code-server as a test fixture: install a .vsix into a fresh profile, start
 * the server on a free loopback port, stop it. The install itself is
 * scripts/install-code-server.sh's job; this only runs it.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

export interface Profile {
  /** code-server's out/node/entry.js. */
  entry: string;
  userDataDir: string;
  extensionsDir: string;
}

export async function installExtension(profile: Profile, vsix: string): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    profile.entry,
    '--user-data-dir',
    profile.userDataDir,
    '--extensions-dir',
    profile.extensionsDir,
    '--install-extension',
    vsix,
  ]);
  return stdout;
}

export interface RunningCodeServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Start code-server on `workspace`; its output goes to `logFile` for post-mortems. */
export async function startCodeServer(profile: Profile, workspace: string, logFile: string): Promise<RunningCodeServer> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      profile.entry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--user-data-dir',
      profile.userDataDir,
      '--extensions-dir',
      profile.extensionsDir,
      workspace,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealthy(url, child, 60_000);
  return { url, pid: child.pid!, stop: () => stopProcess(child) };
}

async function waitForHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited with code ${child.exitCode} before it listened`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`code-server did not answer on ${url} within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL if it lingers: a stuck test must not leave code-server behind. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Processes below `root` (from /proc) whose command line matches: how the test finds the sc2-lsp it started. */
export async function findDescendants(root: number, pattern: RegExp): Promise<number[]> {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the ")" that closes the command name.
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      commands.set(Number(entry), (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' '));
    } catch {
      // Exited while we looked.
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) {
      if (p === root) {
        return true;
      }
    }
    return false;
  };
  return [...commands].filter(([pid, cmd]) => pattern.test(cmd) && below(pid)).map(([pid]) => pid);
}

/**
 * Wait for processes to exit, SIGKILL those still there after `graceMs`.
 * For the sc2-lsp servers the test started: when code-server stops, their
 * extension host goes without a clean LSP shutdown and they may linger.
 */
export async function reap(pids: number[], graceMs: number): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + graceMs;
  while (pids.some(alive) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  for (const pid of pids.filter(alive)) {
    process.kill(pid, 'SIGKILL');
  }
}
