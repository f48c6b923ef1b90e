/** The status bar item: a thin vscode shell around status.ts's render(). */
import * as vscode from 'vscode';
import { render, ServerState } from './status';

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;

  constructor() {
    this.item = vscode.window.createStatusBarItem('sc2.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'sc2-lsp';
    this.item.command = 'sc2.toggle';
    this.item.show();
  }

  show(state: ServerState, enabled: boolean): void {
    const view = render(state, enabled);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === 'normal' ? undefined : new vscode.ThemeColor(`statusBarItem.${view.severity}Background`);
  }

  dispose(): void {
    this.item.dispose();
  }
}
