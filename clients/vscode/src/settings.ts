/**
 * The `sc2.*` settings, turned into what the server and the language client
 * need. No `vscode` import: this is unit-tested under plain Node.
 */

/** Settings the server reads, in the order sent: generated from sc2_lsp/config.py by
 * scripts/gen_settings.py (a test fails when this list drifts). */
export const SERVER_KEYS = [
  'model',
  'quant',
  'dtype',
  'device',
  'allowDownload',
  'threads',
  'engine',
  'endpoint',
  'tokenizer',
  'endpointTimeoutMs',
  'contextTokens',
  'suffixFraction',
  'middleLines',
  'maxNewTokens',
  'multiline',
  'temperature',
  'kvReuse',
  'kvCacheEntries',
  'cacheSize',
  'deadlineMs',
  'fallbackCompletion',
  'context',
  'postprocess',
  'tokenHealing',
  'promptFormat',
  'logLevel',
] as const;

export type ServerKey = (typeof SERVER_KEYS)[number];
export type ServerSettings = Partial<Record<ServerKey, string | number | boolean>>;

/**
 * The server's share of the `sc2` section: only the keys the user has set.
 *
 * package.json gives every server setting a `null` default on purpose, so the
 * server's own defaults apply unless the user overrides them and the two can't
 * drift apart. Client-only keys (`enable`, `serverCommand`, `languages`) stay
 * here. An empty string counts as unset because that is what clearing a text
 * field in the Settings editor leaves behind.
 */
export function toInitializationOptions(section: Readonly<Record<string, unknown>>): ServerSettings {
  const options: ServerSettings = {};
  for (const key of SERVER_KEYS) {
    const value = section[key];
    if (typeof value === 'string' && value.trim() !== '') {
      options[key] = value.trim();
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      options[key] = value;
    }
  }
  return options;
}

/**
 * The `workspace/didChangeConfiguration` payload the server expects: every server
 * key, `null` where unset. The server lays it over initializationOptions, so a key
 * the user clears must be named: its `null` returns it to the server's own value.
 */
export function didChangeConfigurationParams(section: Readonly<Record<string, unknown>>): {
  settings: { sc2: Record<ServerKey, string | number | boolean | null> };
} {
  const set = toInitializationOptions(section);
  const sc2 = Object.fromEntries(SERVER_KEYS.map((key) => [key, set[key] ?? null]));
  return { settings: { sc2: sc2 as Record<ServerKey, string | number | boolean | null> } };
}

export interface ServerExecutable {
  command: string;
  args: string[];
}

/** `sc2.serverCommand` as a process to spawn; throws a message fit for the user. */
export function serverExecutable(value: unknown): ServerExecutable {
  if (!Array.isArray(value) || value.length === 0 || !value.every((part) => typeof part === 'string')) {
    throw new Error('sc2.serverCommand must be a non-empty array of strings, e.g. ["sc2-lsp", "serve"]');
  }
  const [command, ...args] = value as string[];
  if (command.trim() === '') {
    throw new Error('sc2.serverCommand: the first element (the program) is empty');
  }
  return { command, args };
}

export interface DocumentFilter {
  language: string;
  scheme: string;
}

/**
 * Documents that get suggestions: `sc2.languages` in saved files and in
 * untitled buffers alike (a scratch buffer is where people try completion
 * first). Other schemes (git diffs, output panes, settings) are left alone.
 */
export function documentSelector(languages: unknown): DocumentFilter[] {
  if (!Array.isArray(languages)) {
    throw new Error('sc2.languages must be an array of language ids, e.g. ["python"]');
  }
  const ids = [...new Set(languages.filter((id): id is string => typeof id === 'string' && id.trim() !== ''))];
  return ids.flatMap((language) => ['file', 'untitled'].map((scheme) => ({ language, scheme })));
}
