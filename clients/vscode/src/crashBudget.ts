/**
 * How many server crashes to restart from. vscode-languageclient's default
 * handler has the same policy (4 restarts in 3 minutes) but gives up
 * silently; owning it lets the status bar turn to "error" when it does.
 * No `vscode` import: unit-tested under plain Node.
 */
export class CrashBudget {
  private crashes: number[] = [];

  constructor(
    private readonly maxRestarts = 4,
    private readonly windowMs = 3 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Record a crash; true while the server may be restarted. */
  allowRestart(): boolean {
    const t = this.now();
    this.crashes = this.crashes.filter((at) => t - at < this.windowMs);
    this.crashes.push(t);
    return this.crashes.length <= this.maxRestarts;
  }
}
