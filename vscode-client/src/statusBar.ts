/** The status-bar item: torch uses left in the active editor's file. */
import * as vscode from 'vscode';
import { Commands } from './commands';
import { EditorInfo, LeftoverWatch, StatusModel, fixOnSaveEnabled, isStatusParams } from './status';

export function editorInfo(editor: vscode.TextEditor | undefined): EditorInfo | undefined {
    if (!editor) {
        return undefined;
    }
    const document = editor.document;
    const uri = document.uri.toString();
    let notebookUri: string | undefined;
    if (document.uri.scheme === 'vscode-notebook-cell') {
        const notebook = vscode.workspace.notebookDocuments.find((nb) =>
            nb.getCells().some((cell) => cell.document.uri.toString() === uri),
        );
        notebookUri = notebook?.uri.toString();
    }
    return { uri, languageId: document.languageId, notebookUri };
}

function normalizeUri(uri: string): string {
    try {
        return vscode.Uri.parse(uri).toString();
    } catch {
        return uri;
    }
}

function runsFixOnSave(uri: vscode.Uri): boolean {
    const editor = vscode.workspace.getConfiguration('editor', { uri, languageId: 'python' });
    return fixOnSaveEnabled(editor.get('codeActionsOnSave')) || fixOnSaveEnabled(vscode.workspace.getConfiguration('notebook', uri).get('codeActionsOnSave'));
}

export class StatusBar implements vscode.Disposable {
    readonly model = new StatusModel(normalizeUri);
    /** Files that fix-all on save left with torch uses (status bar warning, one notification each). */
    readonly leftovers = new LeftoverWatch(normalizeUri);
    private readonly item: vscode.StatusBarItem;
    private readonly disposables: vscode.Disposable[] = [];
    private enabled = false;

    constructor() {
        this.item = vscode.window.createStatusBarItem('paddleport.status', vscode.StatusBarAlignment.Right, 100);
        this.item.name = 'Paddleport';
        this.disposables.push(
            this.item,
            vscode.window.onDidChangeActiveTextEditor(() => this.refresh()),
            vscode.workspace.onDidCloseTextDocument((document) => {
                this.model.forget(document.uri.toString());
                this.leftovers.forget(document.uri.toString());
            }),
            vscode.workspace.onDidSaveTextDocument((document) => {
                if (document.languageId === 'python' && document.uri.scheme === 'file' && runsFixOnSave(document.uri)) {
                    this.saved(document.uri.toString(), document.version);
                }
            }),
            vscode.workspace.onDidSaveNotebookDocument((notebook) => {
                if (runsFixOnSave(notebook.uri)) {
                    this.saved(notebook.uri.toString(), notebook.version);
                }
            }),
        );
    }

    /** Shows the item only while a server is running. */
    setEnabled(enabled: boolean): void {
        this.enabled = enabled;
        if (!enabled) {
            this.model.clear();
        }
        this.refresh();
    }

    onStatus(params: unknown): void {
        if (this.model.update(params)) {
            const message = isStatusParams(params) ? this.leftovers.onStatus(params) : undefined;
            this.refresh();
            if (message && isStatusParams(params)) {
                this.offerConvert(message, params.uri);
            }
        }
    }

    /**
     * A save that ran fix-all on save. The status of the saved version may already be here (a
     * client that pulls diagnostics gets no new status for a save that changed nothing more).
     */
    private saved(uri: string, version: number): void {
        this.leftovers.onSaved(uri, version);
        const known = this.model.get(uri);
        const message = known ? this.leftovers.onStatus(known) : undefined;
        this.refresh();
        if (message) {
            this.offerConvert(message, uri);
        }
    }

    private offerConvert(message: string, uri: string): void {
        const convert = 'Convert File';
        void vscode.window.showWarningMessage(message, convert).then((choice) => {
            if (choice === convert) {
                void vscode.commands.executeCommand(Commands.convertFile, uri);
            }
        });
    }

    refresh(): void {
        const info = editorInfo(vscode.window.activeTextEditor);
        const key = info?.notebookUri ?? info?.uri;
        const view = this.enabled ? this.model.viewFor(info, !!key && this.leftovers.isLeftover(key)) : undefined;
        if (!view || !info) {
            this.item.hide();
            return;
        }
        this.item.text = view.text;
        this.item.tooltip = view.tooltip;
        this.item.command = {
            title: 'Convert File',
            command: Commands.convertFile,
            arguments: [info.notebookUri ?? info.uri],
        };
        this.item.show();
    }

    dispose(): void {
        this.disposables.forEach((d) => d.dispose());
    }
}
