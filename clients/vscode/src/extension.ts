/** Entry point: wires the session, status bar, commands and settings changes together. */
import * as vscode from 'vscode';
import { Acceptance, ACCEPT_COMMAND } from './acceptance';
import { ServerSession } from './session';
import { SERVER_KEYS } from './settings';
import { StatusBar } from './statusBar';

let session: ServerSession | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('sc2-lsp', { log: true });
  const statusBar = new StatusBar();
  session = new ServerSession(output, statusBar);
  const current = session;

  context.subscriptions.push(
    output,
    statusBar,
    current,
    vscode.commands.registerCommand('sc2.toggle', toggle),
    vscode.commands.registerCommand('sc2.restartServer', () => current.restart()),
    vscode.commands.registerCommand('sc2.showOutput', () => output.show()),
    vscode.commands.registerCommand('sc2.showStatus', async () => {
      output.info(`sc2/status: ${JSON.stringify(await current.status(), null, 2)}`);
      output.show();
    }),
    vscode.commands.registerCommand(ACCEPT_COMMAND, (acceptance: Acceptance) => current.accept(acceptance)),
    vscode.workspace.onDidChangeConfiguration((event) => onConfigurationChanged(event, current)),
  );
  await current.start();
}

export async function deactivate(): Promise<void> {
  await session?.stop();
  session = undefined;
}

/** Flip `sc2.enable` where it is set: a workspace value would otherwise override a global flip. */
async function toggle(): Promise<void> {
  const config = vscode.workspace.getConfiguration('sc2');
  const enabled = config.get<boolean>('enable', true);
  const target =
    config.inspect<boolean>('enable')?.workspaceValue === undefined
      ? vscode.ConfigurationTarget.Global
      : vscode.ConfigurationTarget.Workspace;
  await config.update('enable', !enabled, target);
  if (enabled) {
    await vscode.commands.executeCommand('editor.action.inlineSuggest.hide');
  }
}

function onConfigurationChanged(event: vscode.ConfigurationChangeEvent, current: ServerSession): void {
  if (!event.affectsConfiguration('sc2')) {
    return;
  }
  current.setEnabled(vscode.workspace.getConfiguration('sc2').get<boolean>('enable', true));
  // The process and the client's document selector are fixed at start.
  if (event.affectsConfiguration('sc2.serverCommand') || event.affectsConfiguration('sc2.languages')) {
    void current.restart();
  } else if (SERVER_KEYS.some((key) => event.affectsConfiguration(`sc2.${key}`))) {
    void current.pushSettings();
  }
}
