/** The reference answer: `sc2-lsp complete --json` on the same buffer the editor holds. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface CliCompletion {
  text: string;
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  stats?: Record<string, unknown>;
}

export async function completeWithCli(
  sc2Lsp: string,
  file: string,
  line: number,
  character: number,
  options: { workspace: string; model?: string },
): Promise<CliCompletion> {
  const args = ['complete', file, '--line', String(line), '--character', String(character), '--json'];
  args.push('--workspace', options.workspace);
  if (options.model) {
    args.push('--model', options.model);
  }
  const { stdout } = await promisify(execFile)(sc2Lsp, args, { maxBuffer: 16 << 20, timeout: 600_000 });
  return JSON.parse(stdout) as CliCompletion;
}

/**
 * The buffer after accepting `completion` at (line, character): its range
 * replaced by its text; `cursor` is the offset just after the inserted text.
 */
export function applyCompletion(
  buffer: string,
  line: number,
  character: number,
  completion: CliCompletion,
): { text: string; cursor: number } {
  const lines = buffer.split('\n');
  const offsetOf = (pos: { line: number; character: number }) =>
    lines.slice(0, pos.line).reduce((sum, l) => sum + l.length + 1, 0) + pos.character;
  const start = offsetOf(completion.range?.start ?? { line, character });
  const end = completion.range ? offsetOf(completion.range.end) : start;
  return { text: buffer.slice(0, start) + completion.text + buffer.slice(end), cursor: start + completion.text.length };
}
