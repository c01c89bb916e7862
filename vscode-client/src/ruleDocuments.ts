/** Read-only markdown documents for rules (`paddleport-rule:/<rule id>.md`), shown in the markdown preview. */
import * as vscode from 'vscode';

export const RULE_SCHEME = 'paddleport-rule';

export class RuleDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
    private readonly contents = new Map<string, string>();
    private readonly changed = new vscode.EventEmitter<vscode.Uri>();
    readonly onDidChange = this.changed.event;
    private readonly registration = vscode.workspace.registerTextDocumentContentProvider(RULE_SCHEME, this);

    static uriFor(ruleId: string): vscode.Uri {
        return vscode.Uri.from({ scheme: RULE_SCHEME, path: `/${ruleId}.md` });
    }

    provideTextDocumentContent(uri: vscode.Uri): string {
        return this.contents.get(uri.toString()) ?? '';
    }

    async show(ruleId: string, markdown: string): Promise<void> {
        const uri = RuleDocuments.uriFor(ruleId);
        this.contents.set(uri.toString(), markdown);
        this.changed.fire(uri);
        try {
            await vscode.commands.executeCommand('markdown.showPreview', uri);
        } catch {
            // The built-in markdown extension is disabled: show the source instead.
            const document = await vscode.workspace.openTextDocument(uri);
            await vscode.window.showTextDocument(document, { preview: true });
        }
    }

    dispose(): void {
        this.registration.dispose();
        this.changed.dispose();
    }
}
