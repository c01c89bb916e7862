/**
 * Middleware for the server's commands (`workspace/executeCommand`).
 *
 * vscode-languageclient registers the commands the server lists in its
 * `executeCommandProvider`; this middleware fills in the arguments when a
 * command is run from the palette, refuses the equivalence check in
 * untrusted workspaces, and shows what comes back.
 */
import { refusalFor } from './trust';

export const Commands = {
    convertFile: 'paddleport.convertFile',
    convertWorkspace: 'paddleport.convertWorkspace',
    checkEquivalence: 'paddleport.checkEquivalence',
    showRule: 'paddleport.showRule',
    debugInfo: 'paddleport.debugInfo',
    // Client-side commands.
    restart: 'paddleport.restart',
    showLogs: 'paddleport.showLogs',
} as const;

/** Commands the server provides (registered by the language client). */
export const SERVER_COMMANDS: readonly string[] = [
    Commands.convertFile,
    Commands.convertWorkspace,
    Commands.checkEquivalence,
    Commands.showRule,
    Commands.debugInfo,
];

export interface Position {
    line: number;
    character: number;
}

export interface ActiveEditor {
    uri: string;
    languageId: string;
    /** The cursor. */
    position: Position;
    /** The notebook holding the cell, when the editor is a notebook cell. */
    notebookUri?: string;
}

export interface EquivalenceArgs {
    uri: string;
    position: Position;
    example?: string;
}

/** What the middleware needs from VS Code; the extension implements it, tests fake it. */
export interface CommandHost {
    isTrusted(): boolean;
    activeEditor(): ActiveEditor | undefined;
    /** A `vscode.Uri` or a string as a URI string; undefined for anything else. */
    uriToString(value: unknown): string | undefined;
    /** Asks the user for a rule id; undefined when cancelled. */
    pickRuleId(): Promise<string | undefined>;
    showRule(ruleId: string, markdown: string): Promise<void>;
    showDebugInfo(info: unknown): void;
    showRefusal(message: string): void;
    showInfo(message: string): void;
    /** An equivalence verdict, as a notification with a "Show details" action (the log). */
    showEquivalence?(notice: EquivalenceNotice): void;
    /** Before an equivalence check: false (after telling the user what to install) when the kernel cannot run. */
    kernelReady?(): Promise<boolean>;
}

export type Next = (command: string, args: unknown[]) => unknown;

export const NO_PYTHON_EDITOR = 'Paddleport: open a Python file or notebook first.';

function isPosition(value: unknown): value is Position {
    const p = value as Position;
    return !!p && Number.isInteger(p.line) && Number.isInteger(p.character) && p.line >= 0 && p.character >= 0;
}

function pythonEditor(host: CommandHost): ActiveEditor | undefined {
    const editor = host.activeEditor();
    return editor && editor.languageId === 'python' ? editor : undefined;
}

/** `[uri]` for convertFile: the given file, else the active editor's file (a notebook as a whole). */
export function convertFileArgs(args: readonly unknown[], host: CommandHost): [string] | undefined {
    const given = args.length > 0 ? host.uriToString(args[0]) : undefined;
    if (given) {
        return [given];
    }
    const editor = pythonEditor(host);
    return editor ? [editor.notebookUri ?? editor.uri] : undefined;
}

/** `[{uri, position, example?}]` for checkEquivalence: as given, else the active editor's cursor. */
export function checkEquivalenceArgs(args: readonly unknown[], host: CommandHost): [EquivalenceArgs] | undefined {
    const first = args[0] as Partial<EquivalenceArgs> | undefined;
    if (first && typeof first === 'object') {
        const uri = host.uriToString(first.uri);
        if (uri && isPosition(first.position)) {
            const out: EquivalenceArgs = { uri, position: { line: first.position.line, character: first.position.character } };
            if (typeof first.example === 'string') {
                out.example = first.example;
            }
            return [out];
        }
    }
    const editor = pythonEditor(host);
    return editor ? [{ uri: editor.uri, position: { ...editor.position } }] : undefined;
}

export async function showRuleArgs(args: readonly unknown[], host: CommandHost): Promise<[string] | undefined> {
    const given = typeof args[0] === 'string' ? args[0].trim() : '';
    const ruleId = given || (await host.pickRuleId())?.trim();
    return ruleId ? [ruleId] : undefined;
}

function hasMarkdown(value: unknown): value is { markdown: string } {
    return !!value && typeof (value as { markdown?: unknown }).markdown === 'string';
}

export function createExecuteCommandMiddleware(host: CommandHost) {
    return async function executeCommand(command: string, args: unknown[], next: Next): Promise<unknown> {
        switch (command) {
            case Commands.convertFile: {
                const filled = convertFileArgs(args, host);
                if (!filled) {
                    host.showInfo(NO_PYTHON_EDITOR);
                    return undefined;
                }
                return next(command, filled);
            }
            case Commands.convertWorkspace:
                return next(command, []);
            case Commands.checkEquivalence: {
                const refusal = refusalFor(command, host.isTrusted());
                if (refusal) {
                    host.showRefusal(refusal);
                    return undefined;
                }
                const filled = checkEquivalenceArgs(args, host);
                if (!filled) {
                    host.showInfo(NO_PYTHON_EDITOR);
                    return undefined;
                }
                if (host.kernelReady && !(await host.kernelReady())) {
                    return undefined;
                }
                const result = await next(command, filled);
                const notice = equivalenceNotice(result);
                if (notice && host.showEquivalence) {
                    host.showEquivalence(notice);
                }
                return result;
            }
            case Commands.showRule: {
                const filled = await showRuleArgs(args, host);
                if (!filled) {
                    return undefined;
                }
                const result = await next(command, filled);
                if (hasMarkdown(result)) {
                    await host.showRule(filled[0], result.markdown);
                } else if (result !== undefined && result !== null) {
                    host.showInfo(`Paddleport: the server sent no description for rule ${filled[0]}.`);
                }
                return result;
            }
            case Commands.debugInfo: {
                const result = await next(command, args);
                host.showDebugInfo(result);
                return result;
            }
            default:
                return next(command, args);
        }
    };
}

export interface EquivalenceNotice {
    level: 'info' | 'warning' | 'error';
    message: string;
}

/**
 * The notification for an equivalence verdict: a pass, a mismatch and a check that could not
 * run must never look alike. Undefined for a refusal or when no definition was found (the
 * server has already said why).
 */
export function equivalenceNotice(result: unknown): EquivalenceNotice | undefined {
    if (!result || typeof result !== 'object') {
        return undefined;
    }
    const { status, target, message } = result as { status?: unknown; target?: unknown; message?: unknown };
    if (typeof target !== 'string' || !target) {
        return undefined; // no definition at the cursor: the server has shown why (window/showMessage)
    }
    const name = target;
    const why = typeof message === 'string' ? message : '';
    switch (status) {
        case 'equal':
            return { level: 'info', message: `Paddleport: ✓ ${name} is equivalent under torch and Paddle: ${why}` };
        case 'mismatch':
            return { level: 'warning', message: `Paddleport: ✗ ${name} differs between torch and Paddle: ${why}` };
        case 'error':
            return { level: 'error', message: `Paddleport: could not check ${name}: ${why}` };
        default:
            return undefined;
    }
}

/** The `source` of the server's diagnostics. */
export const DIAGNOSTIC_SOURCE = 'paddleport';

/**
 * Rule ids for the Show Rule picker from a file's diagnostics, pushed or pulled alike
 * (`vscode.languages.getDiagnostics`): only Paddleport's, other linters' codes are not rules.
 */
export function ruleIdsFromDiagnostics(diagnostics: ReadonlyArray<{ source?: string; code?: unknown }>): string[] {
    return ruleIdsFromDiagnosticCodes(diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE).map((d) => d.code));
}

/** Rule ids for the Show Rule picker, from the codes of Paddleport diagnostics. */
export function ruleIdsFromDiagnosticCodes(codes: readonly unknown[]): string[] {
    const ids = new Set<string>();
    for (const code of codes) {
        const value = code && typeof code === 'object' ? (code as { value?: unknown }).value : code;
        if ((typeof value === 'string' && value.trim()) || typeof value === 'number') {
            ids.add(String(value).trim());
        }
    }
    return [...ids].sort();
}

/** The text logged by Debug Info: the server's answer and what the client knows. */
export function formatDebugInfo(server: unknown, client: Record<string, unknown>): string {
    return JSON.stringify({ client, server: server ?? null }, null, 2);
}
