/**
 * Paddleport for VS Code: runs `<python> -m paddleport lsp` on Python files
 * and notebooks, and adds the status-bar count and the client-side commands.
 */
import * as vscode from 'vscode';
import { ActiveEditor, CommandHost, Commands, formatDebugInfo, ruleIdsFromDiagnostics } from './commands';
import { closableChannel } from './channel';
import { RuleDocuments } from './ruleDocuments';
import { ServerManager } from './server';
import { PaddleportSettings, SECTION } from './settings';
import { StatusBar, editorInfo } from './statusBar';
import { MANAGE_TRUST_ACTION, MANAGE_TRUST_COMMAND } from './trust';

/** Returned by `activate`; used by tests and by other extensions that want to wait for the server. */
export interface PaddleportApi {
    /** Settles when the first start attempt is over (started, refused or failed). */
    ready: Promise<void>;
    restart(): Promise<void>;
    settings(): PaddleportSettings;
    state(): string;
}

const RESTART_DELAY_MS = 300;

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): PaddleportApi {
    const log = closableChannel(vscode.window.createOutputChannel('Paddleport', { log: true }));
    const channel = log.channel;
    const statusBar = new StatusBar();
    const rules = new RuleDocuments();

    const host: CommandHost = {
        isTrusted: () => vscode.workspace.isTrusted,
        activeEditor: () => activeEditor(),
        uriToString: (value) => {
            if (typeof value === 'string') {
                return value.trim() || undefined;
            }
            return value instanceof vscode.Uri ? value.toString() : undefined;
        },
        pickRuleId: () => pickRuleId(),
        showRule: (ruleId, markdown) => rules.show(ruleId, markdown),
        showDebugInfo: (info) => {
            channel.info(`Debug info:\n${formatDebugInfo(info, current.clientInfo())}`);
            channel.show(true);
        },
        showRefusal: (message) => {
            void vscode.window.showWarningMessage(message, MANAGE_TRUST_ACTION).then((choice) => {
                if (choice === MANAGE_TRUST_ACTION) {
                    void vscode.commands.executeCommand(MANAGE_TRUST_COMMAND);
                }
            });
        },
        showInfo: (message) => {
            void vscode.window.showInformationMessage(message);
        },
        kernelReady: () => current.kernelReady(),
        showEquivalence: (notice) => {
            const details = 'Show details';
            const show =
                notice.level === 'error'
                    ? vscode.window.showErrorMessage
                    : notice.level === 'warning'
                      ? vscode.window.showWarningMessage
                      : vscode.window.showInformationMessage;
            void show(notice.message, details).then((choice) => {
                if (choice === details) {
                    channel.show(true); // the table of every output, logged by the server
                }
            });
        },
    };

    const current = new ServerManager({
        channel,
        statusBar,
        host,
        extensionVersion: String(context.extension?.packageJSON?.version ?? 'unknown'),
        extensionPath: context.extensionPath,
    });
    manager = current;

    async function pickRuleId(): Promise<string | undefined> {
        const ids = ruleIdsFromDiagnostics(openFileDiagnostics());
        const other = '$(edit) Another rule id…';
        if (ids.length > 0) {
            const picked = await vscode.window.showQuickPick([...ids, other], {
                title: 'Paddleport: Show Rule',
                placeHolder: 'Rule of a torch use reported in this file',
            });
            if (picked !== other) {
                return picked;
            }
        }
        return vscode.window.showInputBox({
            title: 'Paddleport: Show Rule',
            prompt: 'Rule id, e.g. torch.nn.Conv2d',
            ignoreFocusOut: true,
        });
    }

    let restartTimer: ReturnType<typeof setTimeout> | undefined;
    const scheduleRestart = (reason: string) => {
        if (restartTimer) {
            clearTimeout(restartTimer);
        }
        restartTimer = setTimeout(() => {
            restartTimer = undefined;
            channel.info(`${reason}; restarting the server.`);
            void current.restart();
        }, RESTART_DELAY_MS);
    };

    context.subscriptions.push(
        // The channel closes once the server has stopped, and drops the client's late writes
        // (writing to a disposed channel is the "Channel has been closed" error).
        { dispose: () => void current.dispose().finally(() => log.close()) },
        statusBar,
        rules,
        { dispose: () => restartTimer && clearTimeout(restartTimer) },
        vscode.commands.registerCommand(Commands.restart, () => current.restart()),
        vscode.commands.registerCommand(Commands.showLogs, () => channel.show()),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (event.affectsConfiguration(SECTION)) {
                scheduleRestart('Paddleport settings changed');
            }
        }),
        vscode.workspace.onDidGrantWorkspaceTrust(() => scheduleRestart('The workspace is now trusted')),
        vscode.workspace.onDidChangeWorkspaceFolders(() => scheduleRestart('The workspace folders changed')),
    );

    const ready = current.restart();
    return {
        ready,
        restart: () => current.restart(),
        settings: () => current.currentSettings(),
        state: () => current.currentState,
    };
}

/**
 * The active Python editor with its cursor; in a notebook whose cells have no focus (no
 * active text editor), the selected cell, at its start.
 */
function activeEditor(): ActiveEditor | undefined {
    const editor = vscode.window.activeTextEditor;
    const info = editorInfo(editor);
    if (editor && info) {
        const { line, character } = editor.selection.active;
        return { ...info, position: { line, character } };
    }
    const notebook = vscode.window.activeNotebookEditor;
    if (notebook?.notebook.notebookType !== 'jupyter-notebook') {
        return undefined;
    }
    const cells = notebook.notebook.getCells();
    const index = notebook.selection?.start ?? 0;
    const cell = cells[index] ?? cells[0];
    if (!cell || cell.document.languageId !== 'python') {
        return undefined;
    }
    return {
        uri: cell.document.uri.toString(),
        languageId: 'python',
        position: { line: 0, character: 0 },
        notebookUri: notebook.notebook.uri.toString(),
    };
}

/**
 * The diagnostics of the active file (all cells of the active notebook), pushed or pulled:
 * `languages.getDiagnostics` sees both, the client's push collection only the first.
 */
function openFileDiagnostics(): vscode.Diagnostic[] {
    const uris: vscode.Uri[] = [];
    const notebook = vscode.window.activeNotebookEditor?.notebook;
    if (notebook) {
        uris.push(...notebook.getCells().map((cell) => cell.document.uri));
    } else if (vscode.window.activeTextEditor) {
        uris.push(vscode.window.activeTextEditor.document.uri);
    }
    return uris.flatMap((uri) => vscode.languages.getDiagnostics(uri));
}

export async function deactivate(): Promise<void> {
    const stopping = manager;
    manager = undefined;
    await stopping?.dispose();
}
