/**
 * The status-bar item's content, from the server's `paddleport/status`
 * notifications: torch uses left in the active editor's file.
 */

export const STATUS_NOTIFICATION = 'paddleport/status';

export interface StatusParams {
    uri: string;
    version: number | null;
    uses: number;
    /** What Convert File rewrites. */
    fixable: number;
    /** What fix-all on save rewrites (exact fixes only); absent from servers before 0.2. */
    onSave?: number;
}

export interface StatusView {
    text: string;
    tooltip: string;
}

/** What the status bar needs to know about the active editor. */
export interface EditorInfo {
    uri: string;
    languageId: string;
    /** The notebook holding the cell, when the editor is a notebook cell. */
    notebookUri?: string;
}

export function isStatusParams(value: unknown): value is StatusParams {
    const v = value as StatusParams;
    return (
        !!v &&
        typeof v.uri === 'string' &&
        typeof v.uses === 'number' &&
        typeof v.fixable === 'number' &&
        (v.onSave === undefined || typeof v.onSave === 'number') &&
        (v.version === null || v.version === undefined || typeof v.version === 'number')
    );
}

function plural(count: number, word: string): string {
    return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export function statusView(status: Pick<StatusParams, 'uses' | 'fixable' | 'onSave'>): StatusView {
    if (status.uses <= 0) {
        return { text: '$(check) torch: 0', tooltip: 'No torch uses left in this file' };
    }
    const onSave = status.onSave === undefined ? '' : `; fix-all on save applies the ${status.onSave} exact ones`;
    return {
        text: `$(flame) torch: ${status.uses}`,
        tooltip:
            `${plural(status.uses, 'torch use')}: Convert File rewrites ${status.fixable}${onSave}` +
            ' — click to convert the file',
    };
}

/**
 * Latest status per document. URIs are compared after `normalize` (the
 * extension passes `vscode.Uri.parse(s).toString()`, so `file:///c:/` and
 * `file:///c%3A/` match).
 */
export class StatusModel {
    private readonly byUri = new Map<string, StatusParams>();

    constructor(private readonly normalize: (uri: string) => string = (uri) => uri) {}

    /** Records a notification; returns false when it was dropped as malformed or stale. */
    update(params: unknown): boolean {
        if (!isStatusParams(params)) {
            return false;
        }
        const key = this.normalize(params.uri);
        const previous = this.byUri.get(key);
        if (
            previous &&
            typeof previous.version === 'number' &&
            typeof params.version === 'number' &&
            params.version < previous.version
        ) {
            return false;
        }
        this.byUri.set(key, { ...params, version: params.version ?? null });
        return true;
    }

    forget(uri: string): void {
        this.byUri.delete(this.normalize(uri));
    }

    clear(): void {
        this.byUri.clear();
    }

    get(uri: string): StatusParams | undefined {
        return this.byUri.get(this.normalize(uri));
    }

    /**
     * The view for the active editor, or undefined to hide the item (no editor,
     * not Python, or nothing known yet).
     */
    viewFor(editor: EditorInfo | undefined): StatusView | undefined {
        if (!editor || editor.languageId !== 'python') {
            return undefined;
        }
        const status = this.get(editor.uri) ?? (editor.notebookUri ? this.get(editor.notebookUri) : undefined);
        return status ? statusView(status) : undefined;
    }
}
