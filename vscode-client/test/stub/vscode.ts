/**
 * A stand-in for the `vscode` module under `node --test` (esbuild aliases
 * `vscode` to this file when bundling the tests).
 *
 * The parts the extension uses are small fakes that record what happens
 * (`stub.*` lets tests script and inspect them). Everything else is a Proxy
 * that can be read, called, constructed and extended: vscode-languageclient
 * subclasses vscode classes and reads enums when it is loaded.
 */

type AnyFn = (...args: unknown[]) => unknown;

/** A value for any name nobody implemented: a class, a function and a namespace at once. */
function universal(name: string): unknown {
    const target = function () {} as unknown as AnyFn;
    Object.defineProperty(target, 'name', { value: name });
    return new Proxy(target, {
        get(t, prop) {
            if (prop === 'prototype') {
                return (t as unknown as { prototype: unknown }).prototype;
            }
            if (prop === 'then' || typeof prop === 'symbol') {
                return undefined;
            }
            if (prop === 'name') {
                return name;
            }
            const own = Reflect.get(t, prop);
            if (own !== undefined && prop !== 'length' && prop !== 'caller' && prop !== 'arguments') {
                return own;
            }
            return universal(`${name}.${String(prop)}`);
        },
        apply() {
            return universal(`${name}()`);
        },
        construct() {
            return {};
        },
    });
}

// ---------------------------------------------------------------- classes

export class Disposable {
    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => items.forEach((item) => item.dispose()));
    }
    constructor(private readonly onDispose: () => unknown = () => undefined) {}
    dispose(): void {
        this.onDispose();
    }
}

export class EventEmitter<T> {
    private listeners: ((e: T) => unknown)[] = [];
    readonly event = (listener: (e: T) => unknown): Disposable => {
        this.listeners.push(listener);
        return new Disposable(() => {
            this.listeners = this.listeners.filter((l) => l !== listener);
        });
    };
    fire(value: T): void {
        [...this.listeners].forEach((listener) => listener(value));
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class Uri {
    private constructor(
        readonly scheme: string,
        readonly authority: string,
        readonly path: string,
        readonly query: string,
        readonly fragment: string,
    ) {}
    static parse(value: string): Uri {
        const match = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
        if (!match) {
            throw new Error(`not a URI: ${value}`);
        }
        return new Uri(match[1], match[2] ?? '', decodeURIComponent(match[3]), match[4] ?? '', match[5] ?? '');
    }
    static file(path: string): Uri {
        return new Uri('file', '', path, '', '');
    }
    static from(parts: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
        return new Uri(parts.scheme, parts.authority ?? '', parts.path ?? '', parts.query ?? '', parts.fragment ?? '');
    }
    get fsPath(): string {
        return this.path;
    }
    toString(): string {
        const authority = this.scheme === 'file' || this.authority ? `//${this.authority}` : '';
        const path = this.path
            .split('/')
            .map((segment) => encodeURIComponent(segment))
            .join('/');
        return `${this.scheme}:${authority}${path}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
    }
    toJSON(): unknown {
        return { scheme: this.scheme, path: this.path };
    }
}

export class Position {
    constructor(
        readonly line: number,
        readonly character: number,
    ) {}
}

export class Range {
    constructor(
        readonly start: Position,
        readonly end: Position,
    ) {}
}

export class Selection extends Range {
    constructor(
        readonly anchor: Position,
        readonly active: Position,
    ) {
        super(anchor, active);
    }
}

export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}

export enum LogLevel {
    Off = 0,
    Trace = 1,
    Debug = 2,
    Info = 3,
    Warning = 4,
    Error = 5,
}

// ---------------------------------------------------------------- recorded state

export interface FakeStatusBarItem {
    text: string;
    tooltip: unknown;
    command: unknown;
    name?: string;
    visible: boolean;
    show(): void;
    hide(): void;
    dispose(): void;
}

export interface FakeEditor {
    document: { uri: Uri; languageId: string };
    selection: Selection;
}

type Message = { level: 'info' | 'warning' | 'error'; text: string; actions: string[] };

const logLevelChanged = new EventEmitter<number>();

function freshState() {
    return {
        /** Setting values by full key (`paddleport.run`); `undefined` means unset. */
        config: {} as Record<string, unknown>,
        trusted: true,
        workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
        activeTextEditor: undefined as FakeEditor | undefined,
        activeNotebookEditor: undefined as unknown,
        /** What `languages.getDiagnostics(uri)` returns, by URI string (pushed and pulled alike). */
        diagnostics: new Map<string, { source?: string; code?: unknown; message: string }[]>(),
        /** Output channels disposed so far, and writes to a disposed one (VS Code: "Channel has been closed"). */
        closedChannels: [] as string[],
        writesAfterClose: [] as string[],
        messages: [] as Message[],
        /** Answers for the next message boxes (the chosen action), in order. */
        messageAnswers: [] as (string | undefined)[],
        quickPickAnswers: [] as (string | undefined)[],
        inputBoxAnswers: [] as (string | undefined)[],
        quickPicks: [] as unknown[][],
        statusBarItems: [] as FakeStatusBarItem[],
        log: [] as { level: string; text: string }[],
        logLevel: LogLevel.Info as number,
        commands: new Map<string, AnyFn>(),
        executed: [] as { command: string; args: unknown[] }[],
        extensions: {} as Record<string, unknown>,
        clipboard: '',
        terminals: [] as { name?: string; sent: string[] }[],
        contentProviders: new Map<string, { provideTextDocumentContent(uri: Uri): string }>(),
    };
}

export const stub = {
    state: freshState(),
    events: {
        activeEditor: new EventEmitter<unknown>(),
        configuration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
        trust: new EventEmitter<void>(),
        folders: new EventEmitter<unknown>(),
        closeDocument: new EventEmitter<unknown>(),
    },
    reset(): void {
        for (const d of this.state.commands.keys()) {
            this.state.commands.delete(d);
        }
        this.state = freshState();
    },
    setLogLevel(level: number): void {
        this.state.logLevel = level;
        logLevelChanged.fire(level);
    },
    /** Makes `window.activeTextEditor` a Python (or other) editor with the cursor at line/character. */
    openEditor(uri: string, languageId = 'python', line = 0, character = 0): FakeEditor {
        const position = new Position(line, character);
        const editor = { document: { uri: Uri.parse(uri), languageId }, selection: new Selection(position, position) };
        this.state.activeTextEditor = editor;
        this.events.activeEditor.fire(editor);
        return editor;
    },
    closeEditor(): void {
        this.state.activeTextEditor = undefined;
        this.events.activeEditor.fire(undefined);
    },
};

// ---------------------------------------------------------------- namespaces

function showMessage(level: Message['level']) {
    return (text: string, ...rest: unknown[]): Promise<string | undefined> => {
        const actions = rest.filter((item): item is string => typeof item === 'string');
        stub.state.messages.push({ level, text, actions });
        return Promise.resolve(stub.state.messageAnswers.shift());
    };
}

function logger(level: string) {
    return (text: unknown, ...rest: unknown[]) => {
        stub.state.log.push({ level, text: [text, ...rest].map(String).join(' ') });
    };
}

function outputChannel(name: string) {
    let closed = false;
    const write = (level: string) => (text: unknown, ...rest: unknown[]) => {
        if (closed) {
            stub.state.writesAfterClose.push(String(text));
            throw new Error('Channel has been closed');
        }
        logger(level)(text, ...rest);
    };
    return {
        name,
        get logLevel() {
            return stub.state.logLevel;
        },
        onDidChangeLogLevel: (listener: (level: number) => unknown) => logLevelChanged.event(listener),
        trace: write('trace'),
        debug: write('debug'),
        info: write('info'),
        warn: write('warn'),
        error: write('error'),
        append: write('append'),
        appendLine: write('appendLine'),
        replace: write('replace'),
        clear: () => undefined,
        show: () => stub.state.log.push({ level: 'show', text: '' }),
        hide: () => undefined,
        dispose: () => {
            closed = true;
            stub.state.closedChannels.push(name);
        },
    };
}

const windowImpl = {
    get activeTextEditor() {
        return stub.state.activeTextEditor;
    },
    onDidChangeActiveTextEditor: (listener: (e: unknown) => unknown) => stub.events.activeEditor.event(listener),
    showInformationMessage: showMessage('info'),
    showWarningMessage: showMessage('warning'),
    showErrorMessage: showMessage('error'),
    showQuickPick: (items: unknown[]) => {
        stub.state.quickPicks.push(items);
        return Promise.resolve(stub.state.quickPickAnswers.shift());
    },
    showInputBox: () => Promise.resolve(stub.state.inputBoxAnswers.shift()),
    get activeNotebookEditor() {
        return stub.state.activeNotebookEditor;
    },
    createOutputChannel: (name: string) => outputChannel(name),
    createStatusBarItem: () => {
        const item: FakeStatusBarItem = {
            text: '',
            tooltip: undefined,
            command: undefined,
            visible: false,
            show() {
                this.visible = true;
            },
            hide() {
                this.visible = false;
            },
            dispose() {
                this.visible = false;
            },
        };
        stub.state.statusBarItems.push(item);
        return item;
    },
    createTerminal: (options: { name?: string }) => {
        const terminal = { name: options?.name, sent: [] as string[] };
        stub.state.terminals.push(terminal);
        return { show: () => undefined, sendText: (text: string) => terminal.sent.push(text), dispose: () => undefined };
    },
    showTextDocument: () => Promise.resolve(undefined),
};

function configurationFor(section: string) {
    return {
        get<T>(key: string, defaultValue?: T): T | undefined {
            const value = stub.state.config[`${section}.${key}`];
            return (value === undefined ? defaultValue : value) as T | undefined;
        },
        has(key: string) {
            return `${section}.${key}` in stub.state.config;
        },
        inspect: () => undefined,
        update: () => Promise.resolve(),
    };
}

const workspaceImpl = {
    get isTrusted() {
        return stub.state.trusted;
    },
    get workspaceFolders() {
        return stub.state.workspaceFolders;
    },
    notebookDocuments: [] as unknown[],
    textDocuments: [] as unknown[],
    getConfiguration: (section = '') => configurationFor(section),
    onDidChangeConfiguration: (listener: (e: { affectsConfiguration(section: string): boolean }) => unknown) =>
        stub.events.configuration.event(listener),
    onDidGrantWorkspaceTrust: (listener: () => unknown) => stub.events.trust.event(listener),
    onDidChangeWorkspaceFolders: (listener: (e: unknown) => unknown) => stub.events.folders.event(listener),
    onDidCloseTextDocument: (listener: (e: unknown) => unknown) => stub.events.closeDocument.event(listener),
    registerTextDocumentContentProvider: (scheme: string, provider: { provideTextDocumentContent(uri: Uri): string }) => {
        stub.state.contentProviders.set(scheme, provider);
        return new Disposable(() => stub.state.contentProviders.delete(scheme));
    },
    openTextDocument: () => Promise.resolve({}),
};

const commandsImpl = {
    registerCommand(command: string, callback: AnyFn): Disposable {
        if (stub.state.commands.has(command)) {
            throw new Error(`command '${command}' already exists`);
        }
        stub.state.commands.set(command, callback);
        return new Disposable(() => {
            if (stub.state.commands.get(command) === callback) {
                stub.state.commands.delete(command);
            }
        });
    },
    executeCommand(command: string, ...args: unknown[]): Promise<unknown> {
        stub.state.executed.push({ command, args });
        const callback = stub.state.commands.get(command);
        return Promise.resolve(callback ? callback(...args) : undefined);
    },
    getCommands: () => Promise.resolve([...stub.state.commands.keys()]),
};

const extensionsImpl = {
    getExtension: (id: string) => stub.state.extensions[id],
};

const envImpl = {
    clipboard: {
        writeText: (text: string) => {
            stub.state.clipboard = text;
            return Promise.resolve();
        },
    },
    appName: 'Stub Code',
};

const languagesImpl = {
    getDiagnostics: (uri: Uri) => stub.state.diagnostics.get(uri.toString()) ?? [],
};

const implemented: Record<string, unknown> = {
    languages: languagesImpl,
    Disposable,
    EventEmitter,
    Uri,
    Position,
    Range,
    Selection,
    StatusBarAlignment,
    LogLevel,
    window: windowImpl,
    workspace: workspaceImpl,
    commands: commandsImpl,
    extensions: extensionsImpl,
    env: envImpl,
    version: '1.91.0',
};

/** Namespaces are Proxies too, so e.g. `vscode.languages.registerHoverProvider` exists. */
function withFallback(name: string, value: unknown): unknown {
    if (!value || typeof value !== 'object') {
        return value;
    }
    return new Proxy(value as Record<string | symbol, unknown>, {
        get(target, prop) {
            if (prop in target || typeof prop === 'symbol' || prop === 'then') {
                return Reflect.get(target, prop);
            }
            return universal(`${name}.${String(prop)}`);
        },
    });
}

const cache = new Map<string, unknown>();
const vscode: Record<string, unknown> = new Proxy({} as Record<string, unknown>, {
    get(_target, prop) {
        if (typeof prop === 'symbol' || prop === 'then') {
            return undefined;
        }
        if (prop === '__esModule') {
            return true;
        }
        if (!cache.has(prop)) {
            cache.set(prop, prop in implemented ? withFallback(prop, implemented[prop]) : universal(prop));
        }
        return cache.get(prop);
    },
    has() {
        return true;
    },
    // `import * as vscode from 'vscode'` copies the module's own keys: list what is implemented.
    ownKeys() {
        return Object.keys(implemented);
    },
    getOwnPropertyDescriptor(_target, prop): PropertyDescriptor | undefined {
        return typeof prop === 'string' && prop in implemented
            ? { configurable: true, enumerable: true, writable: false, value: vscode[prop] }
            : undefined;
    },
});

export default vscode;
