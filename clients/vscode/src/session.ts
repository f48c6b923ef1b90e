/**
 * One running sc2-lsp server and its language client: start, stop, restart,
 * settings pushes, status polling and the middleware that gates suggestions
 * on `sc2.enable` and reports acceptance.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ErrorHandler,
  LanguageClient,
  LanguageClientOptions,
  Middleware,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { Acceptance, attachAcceptance, insertTextOf } from './acceptance';
import { CrashBudget } from './crashBudget';
import { resolveExecutable } from './executable';
import { didChangeConfigurationParams, documentSelector, serverExecutable, toInitializationOptions } from './settings';
import { applyProgress, fromStatusResponse, ProgressValue, ServerState, StatusResponse } from './status';
import { StatusBar } from './statusBar';

/** While the model loads, ask for the state this often: `$/progress` alone can't tell ready from failed. */
const LOADING_POLL_MS = 1000;
/** Coalesce status refreshes after completions: one `sc2/status` per burst of keystrokes. */
const REFRESH_DEBOUNCE_MS = 300;

function sc2Section(): Record<string, unknown> {
  // getConfiguration() returns a proxy; copy it into a plain object.
  return JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('sc2')));
}

export class ServerSession implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private state: ServerState = { kind: 'stopped' };
  private enabled = vscode.workspace.getConfiguration('sc2').get<boolean>('enable', true);
  private pollTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly statusBar: StatusBar,
  ) {
    this.show();
  }

  async start(): Promise<void> {
    const section = sc2Section();
    let serverOptions: ServerOptions;
    let clientOptions: LanguageClientOptions;
    try {
      const { command, args } = serverExecutable(section.serverCommand);
      // Relative commands (e.g. ".venv/bin/sc2-lsp") are relative to the first workspace folder.
      const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
      const program = resolveExecutable(command, process.env.PATH ?? '', cwd);
      if (!program) {
        throw new Error(
          `cannot find ${JSON.stringify(command)}` +
            (command.includes('/') ? '' : ' on the PATH') +
            '. Set sc2.serverCommand to the sc2-lsp of your Python environment, ' +
            'e.g. ["/path/to/.venv/bin/sc2-lsp", "serve"].',
        );
      }
      serverOptions = { command: program, args, options: { cwd } };
      clientOptions = {
        documentSelector: documentSelector(section.languages),
        outputChannel: this.output,
        // A function, so that the client's automatic restarts after a crash send current settings.
        initializationOptions: () => toInitializationOptions(sc2Section()),
        middleware: this.middleware(),
        errorHandler: this.errorHandler(),
      };
    } catch (error) {
      return this.fail((error as Error).message);
    }
    this.output.info(`starting ${JSON.stringify(section.serverCommand)}`);
    // Id 'sc2': vscode-languageclient then reads its message tracing from `sc2.trace.server`.
    const client = new LanguageClient('sc2', 'sc2-lsp', serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState(({ newState }) => this.onClientState(client, newState));
    this.setState({ kind: 'starting' });
    try {
      await client.start();
    } catch (error) {
      // The client stays: it may still be restarting the server, and stop() must reach it.
      if (this.client === client) {
        const reason = error instanceof Error ? `: ${error.message}` : '';
        this.fail(`the server failed to start${reason}. Its messages are in the sc2-lsp output.`);
      }
      return;
    }
    void this.refreshStatus();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clearTimers();
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping the server: ${(error as Error).message}`);
      }
    }
    this.setState({ kind: 'stopped' });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    this.show();
  }

  /** Send the server's settings after `sc2.*` changed (server keys only). */
  async pushSettings(): Promise<void> {
    if (this.client?.state !== State.Running) {
      return;
    }
    await this.client.sendNotification(DidChangeConfigurationNotification.type, didChangeConfigurationParams(sc2Section()));
    void this.refreshStatus();
  }

  /** The accept command: tell the server, then run the command the server put on the item, if any. */
  async accept(acceptance: Acceptance): Promise<void> {
    if (this.client?.state === State.Running) {
      await this.client.sendNotification('sc2/didAcceptCompletion', {
        uri: acceptance.uri,
        acceptedLength: acceptance.acceptedLength,
      });
      this.scheduleRefresh();
    }
    if (acceptance.then) {
      await vscode.commands.executeCommand(acceptance.then.command, ...(acceptance.then.arguments ?? []));
    }
  }

  /** The raw `sc2/status` answer, for the "Show Server Status" command. */
  async status(): Promise<StatusResponse | undefined> {
    return this.client?.state === State.Running ? this.client.sendRequest<StatusResponse>('sc2/status', {}) : undefined;
  }

  dispose(): void {
    void this.stop();
  }

  private middleware(): Middleware {
    return {
      provideInlineCompletionItems: async (document, position, context, token, next) => {
        if (!this.enabled) {
          return null;
        }
        const result = await next(document, position, context, token);
        if (!result || token.isCancellationRequested) {
          return result;
        }
        const items = Array.isArray(result) ? result : result.items;
        const uri = document.uri.toString();
        attachAcceptance(items, uri);
        if (items.length > 0) {
          // No stable API says what VS Code displayed; an uncancelled, non-empty
          // answer is what it shows unless the user has typed on meanwhile.
          void this.client?.sendNotification('sc2/didShowCompletion', { uri, text: insertTextOf(items[0]) });
        }
        this.scheduleRefresh();
        return result;
      },
      // The server's textDocument/completion fallback is for clients without
      // inline completion. Here it would put the same suggestion in the
      // suggest widget (which takes Tab) and run the model twice per keystroke.
      provideCompletionItem: () => null,
      handleWorkDoneProgress: (_token, params, next) => {
        this.setState(applyProgress(this.state, params as ProgressValue));
        if (params.kind === 'end') {
          void this.refreshStatus();
        }
        next(_token, params);
      },
    };
  }

  /** Restart after a crash while the budget lasts; then stay down and say so. */
  private errorHandler(): ErrorHandler {
    const budget = new CrashBudget();
    return {
      error: () => ({ action: ErrorAction.Continue }),
      closed: () => {
        if (budget.allowRestart()) {
          this.setState({ kind: 'starting' });
          return { action: CloseAction.Restart };
        }
        const message = 'the server stopped 5 times in 3 minutes and is not restarted; see the sc2-lsp output.';
        this.setState({ kind: 'error', message });
        return { action: CloseAction.DoNotRestart, message: `sc2-lsp: ${message}` };
      },
    };
  }

  private onClientState(client: LanguageClient, newState: State): void {
    if (client !== this.client) {
      return;
    }
    if (newState === State.Stopped && this.state.kind !== 'error') {
      this.setState({ kind: 'stopped' });
    } else if (newState === State.Running && (this.state.kind === 'stopped' || this.state.kind === 'starting')) {
      // Running again after a crash (the client restarts the server by itself): ask where it is.
      this.setState({ kind: 'starting' });
      void this.refreshStatus();
    }
  }

  private async refreshStatus(): Promise<void> {
    const client = this.client;
    if (client?.state !== State.Running) {
      return;
    }
    try {
      const response = await client.sendRequest<StatusResponse>('sc2/status', {});
      if (client === this.client) {
        this.setState(fromStatusResponse(response, this.state));
      }
    } catch (error) {
      this.output.warn(`sc2/status failed: ${(error as Error).message}`);
      return;
    }
    if (client === this.client && (this.state.kind === 'loading' || this.state.kind === 'starting')) {
      clearTimeout(this.pollTimer);
      this.pollTimer = setTimeout(() => void this.refreshStatus(), LOADING_POLL_MS);
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refreshStatus(), REFRESH_DEBOUNCE_MS);
  }

  private fail(message: string): void {
    this.setState({ kind: 'error', message });
    void vscode.window.showErrorMessage(`sc2-lsp: ${message}`, 'Open Settings').then((choice) => {
      if (choice) {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'sc2.');
      }
    });
  }

  private setState(state: ServerState): void {
    if (state.kind === 'error' && this.state.kind !== 'error') {
      this.output.error(state.message);
    }
    this.state = state;
    this.show();
  }

  private show(): void {
    this.statusBar.show(this.state, this.enabled);
  }

  private clearTimers(): void {
    clearTimeout(this.pollTimer);
    clearTimeout(this.refreshTimer);
  }
}
