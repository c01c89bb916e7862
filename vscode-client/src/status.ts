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

export function statusView(status: Pick<StatusParams, 'uses' | 'fixable' | 'onSave'>, leftAfterSave = false): StatusView {
    if (status.uses <= 0) {
        return { text: '$(check) torch: 0', tooltip: 'No torch uses left in this file' };
    }
    if (leftAfterSave) {
        // Fix-all on save rewrote the exact uses only: the file may now need both frameworks.
        return {
            text: `$(warning) torch: ${status.uses}`,
            tooltip:
                `Fix-all on save converted the exact uses; ${plural(status.uses, 'torch use')} ${status.uses === 1 ? 'is' : 'are'} left ` +
                '(to review or port by hand), so the file may mix torch and Paddle and run under neither. ' +
                `Convert File rewrites ${status.fixable} — click to convert the file`,
        };
    }
    const onSave = status.onSave === undefined ? '' : `; fix-all on save applies the ${status.onSave} exact ones`;
    return {
        text: `$(flame) torch: ${status.uses}`,
        tooltip:
            `${plural(status.uses, 'torch use')}: Convert File rewrites ${status.fixable}${onSave}` +
            ' — click to convert the file',
    };
}

function baseName(uri: string): string {
    const tail = uri.split(/[/\\]/).pop() || uri;
    try {
        return decodeURIComponent(tail);
    } catch {
        return tail;
    }
}

/** Whether an `editor.codeActionsOnSave` value runs Paddleport's fix-all (explicitly or always). */
export function fixOnSaveEnabled(value: unknown): boolean {
    const kinds = ['source.fixAll.paddleport', 'source.fixAll'];
    if (Array.isArray(value)) {
        return value.some((kind) => kinds.includes(String(kind)));
    }
    if (value && typeof value === 'object') {
        const entries = value as Record<string, unknown>;
        return kinds.some((kind) => entries[kind] === true || entries[kind] === 'explicit' || entries[kind] === 'always');
    }
    return false;
}

/**
 * Notices when fix-all on save (exact fixes only) leaves torch uses behind: the first status
 * for a version at or after a save that still counts uses, with none left for on-save to fix.
 * The file is then marked (status bar) until no use is left, and the user is told once per file.
 */
export class LeftoverWatch {
    private readonly savedAt = new Map<string, number>();
    private readonly leftover = new Set<string>();
    private readonly told = new Set<string>();

    constructor(private readonly normalize: (uri: string) => string = (uri) => uri) {}

    /** A save of `uri` at `version` that ran fix-all on save. */
    onSaved(uri: string, version: number): void {
        this.savedAt.set(this.normalize(uri), version);
    }

    /** The message to show now (once per file), or undefined. */
    onStatus(status: StatusParams): string | undefined {
        const key = this.normalize(status.uri);
        if (status.uses <= 0) {
            this.leftover.delete(key);
            this.savedAt.delete(key);
            return undefined;
        }
        const saved = this.savedAt.get(key);
        if (saved === undefined || (typeof status.version === 'number' && status.version < saved)) {
            return undefined;
        }
        this.savedAt.delete(key);
        if ((status.onSave ?? 0) > 0) {
            return undefined; // fix-on-save did not run (or not yet): nothing to say
        }
        this.leftover.add(key);
        if (this.told.has(key)) {
            return undefined;
        }
        this.told.add(key);
        return (
            `Paddleport: ${baseName(status.uri)} still uses torch (${plural(status.uses, 'use')}) after fix-all on save, ` +
            'which converts exact uses only: it may now mix torch and Paddle and run under neither. ' +
            `Convert File rewrites ${status.fixable} more (to review).`
        );
    }

    isLeftover(uri: string): boolean {
        return this.leftover.has(this.normalize(uri));
    }

    forget(uri: string): void {
        const key = this.normalize(uri);
        this.savedAt.delete(key);
        this.leftover.delete(key);
    }
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
    viewFor(editor: EditorInfo | undefined, leftAfterSave = false): StatusView | undefined {
        if (!editor || editor.languageId !== 'python') {
            return undefined;
        }
        const status = this.get(editor.uri) ?? (editor.notebookUri ? this.get(editor.notebookUri) : undefined);
        return status ? statusView(status, leftAfterSave) : undefined;
    }
}
