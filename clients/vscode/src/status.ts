/**
 * What the status bar says, as pure functions of the server's state: the
 * state comes from `$/progress` while the model loads and from `sc2/status`
 * otherwise. No `vscode` import: this is unit-tested under plain Node.
 */

export interface Counters {
  requests?: number;
  model_calls?: number;
  cache_hits?: number;
  typing_through?: number;
  mean_ms?: number;
  p95_ms?: number;
  shown?: number;
  accepted?: number;
}

/** The `sc2/status` response (docs/architecture.md, LSP surface); every field optional since older servers may omit some. */
export interface StatusResponse {
  state?: 'loading' | 'ready' | 'error';
  model?: string;
  device?: string;
  quant?: string;
  memory_mb?: number;
  error?: string | null;
  counters?: Counters;
  last?: { total_ms?: number; [key: string]: unknown } | null;
}

export type ServerState =
  | { kind: 'starting' }
  | { kind: 'loading'; percent?: number; message?: string }
  | { kind: 'ready'; status: StatusResponse }
  | { kind: 'error'; message: string }
  | { kind: 'stopped' };

/** A `$/progress` value (LSP WorkDoneProgressBegin/Report/End). */
export interface ProgressValue {
  kind: 'begin' | 'report' | 'end';
  percentage?: number;
  message?: string;
  title?: string;
}

export function fromStatusResponse(response: StatusResponse, previous: ServerState): ServerState {
  switch (response.state) {
    case 'ready':
      return { kind: 'ready', status: response };
    case 'error':
      return { kind: 'error', message: response.error || 'the model failed to load' };
    default:
      // Keep the percentage we already have: sc2/status has none.
      return previous.kind === 'loading' ? previous : { kind: 'loading' };
  }
}

/**
 * A `begin` always means a (re)load, e.g. after `sc2.model` changed. Reports
 * and the end move the state only while loading: a late report after
 * `sc2/status` said ready must not send the bar back to "loading". The end
 * leaves it at 100%; the next `sc2/status` tells ready from error.
 */
export function applyProgress(state: ServerState, value: ProgressValue): ServerState {
  if (value.kind !== 'begin' && state.kind !== 'starting' && state.kind !== 'loading') {
    return state;
  }
  const carried = state.kind === 'loading' && value.kind !== 'begin' ? state : undefined;
  const percent = value.kind === 'end' ? 100 : value.percentage ?? carried?.percent;
  const message = value.message ?? value.title ?? carried?.message;
  return { kind: 'loading', percent, message };
}

/** "model/sc2-mini" → "sc2-mini", "bigcode/starcoder2-3b" → "starcoder2-3b", "random:tiny" unchanged. */
export function shortModelName(model: string | undefined): string {
  if (!model) {
    return 'model';
  }
  const parts = model.replace(/[\\/]+$/, '').split(/[\\/]/);
  return parts[parts.length - 1] || model;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Drives the item's background: warnings and errors should catch the eye. */
  severity: 'normal' | 'warning' | 'error';
}

const TOGGLE_HINT = (enabled: boolean) => `Click to turn inline suggestions ${enabled ? 'off' : 'on'}.`;

export function render(state: ServerState, enabled: boolean): StatusView {
  switch (state.kind) {
    case 'starting':
      return { text: '$(loading~spin) sc2: starting', tooltip: 'Starting the sc2-lsp server…', severity: 'normal' };
    case 'loading': {
      const percent = state.percent === undefined ? '' : ` ${Math.round(state.percent)}%`;
      const detail = state.message ? `: ${state.message}` : '';
      return {
        text: `$(loading~spin) sc2: loading${percent}`,
        tooltip: `Loading the model${detail}. Suggestions start when it is ready.`,
        severity: 'normal',
      };
    }
    case 'ready':
      return renderReady(state.status, enabled);
    case 'error':
      return {
        text: '$(error) sc2: error',
        tooltip: `${state.message}\nSee "sc2-lsp: Show Output"; "sc2-lsp: Restart Server" tries again.`,
        severity: 'error',
      };
    case 'stopped':
      return {
        text: '$(debug-disconnect) sc2: stopped',
        tooltip: 'The sc2-lsp server is not running. "sc2-lsp: Restart Server" starts it.',
        severity: 'warning',
      };
  }
}

function renderReady(status: StatusResponse, enabled: boolean): StatusView {
  const name = shortModelName(status.model);
  const lastMs = status.last?.total_ms;
  const latency = typeof lastMs === 'number' ? ` · ${Math.round(lastMs)} ms` : '';
  const text = enabled ? `$(sparkle) sc2: ${name}${latency}` : `$(circle-slash) sc2: off`;
  return { text, tooltip: [...describe(status), TOGGLE_HINT(enabled)].join('\n'), severity: enabled ? 'normal' : 'warning' };
}

function describe(status: StatusResponse): string[] {
  const lines = [`Model: ${status.model ?? 'unknown'}`];
  const runtime = [status.device, status.quant && status.quant !== 'none' ? status.quant : undefined]
    .filter(Boolean)
    .join(', ');
  if (runtime) {
    lines.push(`Runs on: ${runtime}${typeof status.memory_mb === 'number' ? `, ${Math.round(status.memory_mb)} MB` : ''}`);
  }
  const c = status.counters;
  if (c && typeof c.requests === 'number') {
    lines.push(
      `Requests: ${c.requests} (model ${c.model_calls ?? 0}, cache ${c.cache_hits ?? 0}, typing-through ${c.typing_through ?? 0})`,
    );
    if (typeof c.mean_ms === 'number') {
      lines.push(`Latency: mean ${Math.round(c.mean_ms)} ms, p95 ${Math.round(c.p95_ms ?? c.mean_ms)} ms`);
    }
    if (typeof c.shown === 'number') {
      lines.push(`Accepted: ${c.accepted ?? 0} of ${c.shown} shown`);
    }
  }
  return lines;
}
