/** The status-bar item: torch uses left in the active editor's file. */
import * as vscode from 'vscode';
import { Commands } from './commands';
import { EditorInfo, StatusModel } from './status';

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

export class StatusBar implements vscode.Disposable {
    readonly model = new StatusModel((uri) => {
        try {
            return vscode.Uri.parse(uri).toString();
        } catch {
            return uri;
        }
    });
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
            this.refresh();
        }
    }

    refresh(): void {
        const info = editorInfo(vscode.window.activeTextEditor);
        const view = this.enabled ? this.model.viewFor(info) : undefined;
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
