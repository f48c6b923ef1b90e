/**
 * Find the server program before spawning it. A missing program is the most
 * common setup mistake (sc2-lsp lives in a venv that VS Code's PATH lacks);
 * spawn's ENOENT reaches the extension only as an opaque start failure, so
 * the check is made here, where the message can say which setting to fix.
 * No `vscode` import: unit-tested under plain Node.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, resolve } from 'node:path';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The file `command` runs: a path (with a slash) as is, relative ones from
 * `cwd`; a bare name from the first `searchPath` entry that has it.
 * Undefined if there is none. On Windows (PATHEXT, .cmd shims) the command is
 * trusted as given.
 */
export function resolveExecutable(
  command: string,
  searchPath: string,
  cwd: string,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (platform === 'win32') {
    return command;
  }
  if (command.includes('/')) {
    const path = isAbsolute(command) ? command : resolve(cwd, command);
    return isExecutableFile(path) ? path : undefined;
  }
  for (const dir of searchPath.split(delimiter)) {
    const path = resolve(cwd, dir || '.', command);
    if (isExecutableFile(path)) {
      return path;
    }
  }
  return undefined;
}
