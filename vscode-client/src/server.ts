/**
 * Starts, stops and restarts the language server, one per window.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    DidChangeConfigurationNotification,
    ErrorHandler,
    LanguageClient,
    LanguageClientOptions,
    RevealOutputChannelOn,
} from 'vscode-languageclient/node';
import { CommandHost, Commands, SERVER_COMMANDS, createExecuteCommandMiddleware } from './commands';
import {
    BUNDLED_IMPORT,
    BundleInfo,
    Interpreter,
    PythonEnvironmentsApi,
    checkPaddleportImport,
    commandLine,
    describeSource,
    kernelInstallCommand,
    kernelPackagesMessage,
    missingModules,
    missingPackageMessage,
    resolveInterpreter,
} from './interpreter';
import { getPythonEnvironments } from './pythonExtension';
import { serverCommand, serverEnvironment, serverExecutable } from './serverOptions';
import {
    PaddleportSettings,
    SECTION,
    VariableContext,
    ImportStrategy,
    answerConfiguration,
    didChangeConfigurationParams,
    readImportStrategy,
    readInterpreterSetting,
    readSettings,
} from './settings';
import { STATUS_NOTIFICATION } from './status';
import { StatusBar } from './statusBar';
import { refusalFor } from './trust';

export const DOCUMENT_SELECTOR = [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    { scheme: 'vscode-notebook-cell', language: 'python' },
];

type ServerState = 'stopped' | 'disabled' | 'starting' | 'running' | 'failed';

/** The server bundled in the .vsix: `bundled/libs` (put on PYTHONPATH) and what it was built for. */
export interface Bundle extends BundleInfo {
    libs: string;
}

/** Reads `<extension>/bundled/manifest.json`; undefined when the extension has no bundled server (a dev checkout). */
export function findBundle(extensionPath: string | undefined): Bundle | undefined {
    if (!extensionPath) {
        return undefined;
    }
    const dir = path.join(extensionPath, 'bundled');
    try {
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Partial<BundleInfo>;
        const libs = path.join(dir, 'libs');
        if (!fs.existsSync(path.join(libs, 'paddleport', '__init__.py'))) {
            return undefined;
        }
        return { libs, target: String(manifest.target ?? 'unknown'), python: String(manifest.python ?? 'unknown') };
    } catch {
        return undefined;
    }
}

/** The name of a `vscode.LogLevel` (Debug Info shows `"Info"`, not `3`). */
export function logLevelName(level: number): string {
    return ['Off', 'Trace', 'Debug', 'Info', 'Warning', 'Error'][level] ?? String(level);
}

export interface ServerManagerDeps {
    channel: vscode.LogOutputChannel;
    statusBar: StatusBar;
    host: CommandHost;
    extensionVersion: string;
    /** Where the extension is installed: its `bundled/` holds the server for importStrategy useBundled. */
    extensionPath?: string;
    /** Injected in tests; defaults to the real import check. */
    checkImport?: typeof checkPaddleportImport;
}

export class ServerManager implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private state: ServerState = 'stopped';
    private interpreter: Interpreter | undefined;
    private settings: PaddleportSettings | undefined;
    private strategy: ImportStrategy = 'useBundled';
    private bundle: Bundle | undefined;
    private kernelChecked = new Set<string>();
    private disposing: Promise<void> | undefined;
    private fallbacks: vscode.Disposable[] = [];
    private queue: Promise<void> = Promise.resolve();
    private disposed = false;
    private pythonApi: Awaited<ReturnType<typeof getPythonEnvironments>>;
    private pythonApiLoaded = false;
    private readonly disposables: vscode.Disposable[] = [];

    constructor(private readonly deps: ServerManagerDeps) {
        this.registerFallbacks();
    }

    /** Restarts the server; calls are serialized, so the last one wins. */
    restart(): Promise<void> {
        this.queue = this.queue.then(
            () => this.doRestart(),
            () => this.doRestart(),
        );
        return this.queue;
    }

    get currentState(): ServerState {
        return this.state;
    }

    get currentClient(): LanguageClient | undefined {
        return this.client;
    }

    /** What Debug Info reports about the client side. */
    clientInfo(): Record<string, unknown> {
        return {
            extensionVersion: this.deps.extensionVersion,
            vscodeVersion: vscode.version,
            state: this.state,
            interpreter: this.interpreter
                ? { command: this.interpreter.command, source: describeSource(this.interpreter.source) }
                : null,
            serverCommand: this.interpreter ? this.serverCommandLine(this.interpreter) : null,
            importStrategy: this.strategy,
            bundledServer: this.bundle ?? null,
            workspaceTrusted: vscode.workspace.isTrusted,
            logLevel: logLevelName(this.deps.channel.logLevel),
            settings: this.settings ?? null,
        };
    }

    private serverCommandLine(interpreter: Interpreter): string {
        const { command, args } = serverCommand(interpreter.command);
        return commandLine([command, ...args]);
    }

    private log(message: string): void {
        this.deps.channel.info(message);
    }

    private variables(folder: vscode.WorkspaceFolder | undefined): VariableContext {
        return { workspaceFolder: folder?.uri.fsPath, userHome: os.homedir(), env: process.env };
    }

    private scope(): vscode.WorkspaceFolder | undefined {
        return vscode.workspace.workspaceFolders?.[0];
    }

    /** The settings as the server receives them (re-read on every call). */
    currentSettings(): PaddleportSettings {
        const folder = this.scope();
        const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
        return readSettings(config, vscode.workspace.isTrusted, this.variables(folder));
    }

    private async pythonEnvironments(): Promise<PythonEnvironmentsApi | undefined> {
        if (!this.pythonApiLoaded) {
            this.pythonApiLoaded = true;
            this.pythonApi = await getPythonEnvironments((m) => this.deps.channel.warn(m));
            const onChange = this.pythonApi?.onDidChangeActiveEnvironmentPath;
            if (onChange) {
                this.disposables.push(
                    onChange(() => {
                        if (this.interpreter?.source !== 'setting') {
                            this.log('The Python extension selected another environment; restarting.');
                            void this.restart();
                        }
                    }),
                );
            }
        }
        return this.pythonApi;
    }

    private async doRestart(): Promise<void> {
        if (this.disposed) {
            return;
        }
        await this.stopClient();
        this.registerFallbacks();

        const folder = this.scope();
        const config = vscode.workspace.getConfiguration(SECTION, folder?.uri);
        const vars = this.variables(folder);
        this.settings = readSettings(config, vscode.workspace.isTrusted, vars);
        if (!this.settings.enable) {
            this.state = 'disabled';
            this.log('paddleport.enable is off: the server is not started.');
            return;
        }

        this.state = 'starting';
        const interpreter = await resolveInterpreter({
            setting: readInterpreterSetting(config, vars),
            pythonApi: await this.pythonEnvironments(),
            resource: folder?.uri,
            log: (m) => this.deps.channel.warn(m),
        });
        this.interpreter = interpreter;
        this.log(`Interpreter: ${commandLine(interpreter.command)} (${describeSource(interpreter.source)})`);
        this.strategy = readImportStrategy(config);
        this.bundle = this.strategy === 'useBundled' ? findBundle(this.deps.extensionPath) : undefined;
        if (this.bundle) {
            this.log(`Server: bundled (CPython ${this.bundle.python}, ${this.bundle.target}) from ${this.bundle.libs}`);
        } else if (this.strategy === 'useBundled') {
            this.deps.channel.warn('This build of the extension has no bundled server: using the interpreter\'s paddleport.');
        } else {
            this.log("Server: the interpreter's paddleport (paddleport.importStrategy is fromEnvironment)");
        }

        const check = await (this.deps.checkImport ?? checkPaddleportImport)(interpreter.command, undefined, {
            env: this.bundle ? serverEnvironment(process.env, this.bundle.libs) : process.env,
            code: this.bundle ? BUNDLED_IMPORT : undefined,
        });
        if (!check.ok) {
            this.state = 'failed';
            const noBundle = this.strategy === 'useBundled' && !this.bundle ? 'none' : undefined;
            const message = missingPackageMessage(interpreter, check.detail, this.bundle ?? noBundle);
            this.deps.channel.error(message);
            void this.offerFix(message);
            return;
        }
        if (this.disposed) {
            return;
        }

        const client = this.createClient(interpreter, folder);
        this.client = client;
        this.disposeFallbacks();
        try {
            await client.start();
        } catch (error) {
            if (this.client === client) {
                this.state = 'failed';
                this.client = undefined;
                this.registerFallbacks();
            }
            this.deps.channel.error(`The Paddleport server failed to start: ${String(error)}`);
            void vscode.window
                .showErrorMessage('Paddleport: the language server failed to start. See the log for details.', 'Show Logs')
                .then((choice) => choice && this.deps.channel.show());
            return;
        }
        if (this.client !== client) {
            return;
        }
        this.state = 'running';
        this.deps.statusBar.setEnabled(true);
        this.registerFallbacks(this.missingServerCommands(client));
    }

    /** Server commands the running server does not provide (they get a placeholder that explains why). */
    private missingServerCommands(client: LanguageClient): string[] {
        const provided = client.initializeResult?.capabilities.executeCommandProvider?.commands ?? [];
        return SERVER_COMMANDS.filter((command) => !provided.includes(command));
    }

    private createClient(interpreter: Interpreter, folder: vscode.WorkspaceFolder | undefined): LanguageClient {
        const executable = serverExecutable(interpreter.command, {
            cwd: folder?.uri.fsPath,
            env: process.env,
            bundledLibs: this.bundle?.libs,
        });
        this.log(`Starting: ${commandLine([executable.command, ...executable.args])}`);
        const executeCommand = createExecuteCommandMiddleware(this.deps.host);
        let client: LanguageClient;
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENT_SELECTOR,
            // The client traces LSP messages into the channel when its log level is Trace
            // (detail: paddleport.trace.server), and follows changes of that level.
            outputChannel: this.deps.channel,
            traceOutputChannel: this.deps.channel,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: this.settings,
            // Makes the client send `workspace/didChangeConfiguration` (rewritten by the middleware below).
            synchronize: { configurationSection: SECTION },
            errorHandler: this.errorHandler(() => client),
            middleware: {
                executeCommand,
                workspace: {
                    configuration: async (params, token, next) => {
                        const answers = await next(params, token);
                        if (!Array.isArray(answers)) {
                            return answers;
                        }
                        return answerConfiguration(params.items, answers, this.currentSettings());
                    },
                    didChangeConfiguration: async () => {
                        await client.sendNotification(
                            DidChangeConfigurationNotification.type,
                            didChangeConfigurationParams(this.currentSettings()),
                        );
                    },
                },
            },
        };
        client = new LanguageClient('paddleport', 'Paddleport', { run: executable, debug: executable }, clientOptions);
        client.onNotification(STATUS_NOTIFICATION, (params: unknown) => this.deps.statusBar.onStatus(params));
        return client;
    }

    /** The default handler (restart up to 4 times in 3 minutes); when it gives up, placeholders come back. */
    private errorHandler(getClient: () => LanguageClient): ErrorHandler {
        let inner: ErrorHandler | undefined;
        const handler = () => (inner ??= getClient().createDefaultErrorHandler(4));
        return {
            error: (error, message, count) => handler().error(error, message, count),
            closed: async (): Promise<CloseHandlerResult> => {
                const result = await handler().closed();
                if (result.action === CloseAction.DoNotRestart) {
                    const client = getClient();
                    setTimeout(() => {
                        if (this.client === client) {
                            this.state = 'failed';
                            this.client = undefined;
                            this.deps.statusBar.setEnabled(false);
                            this.registerFallbacks();
                        }
                    }, 0);
                }
                return result;
            },
        };
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.deps.statusBar.setEnabled(false);
        if (!client) {
            return;
        }
        try {
            await client.dispose(2000);
        } catch (error) {
            this.deps.channel.warn(`Stopping the server: ${String(error)}`);
        }
        this.state = 'stopped';
    }

    private async offerFix(message: string): Promise<void> {
        const settings = 'Open Settings';
        const logs = 'Show Logs';
        const choice = await vscode.window.showErrorMessage(message, settings, logs);
        if (choice === settings) {
            await vscode.commands.executeCommand('workbench.action.openSettings', 'paddleport.');
        } else if (choice === logs) {
            this.deps.channel.show();
        }
    }

    /**
     * Before an equivalence check: whether the kernel's interpreter has torch, paddle and
     * ipykernel, and the server's has jupyter_client. When not, says exactly what to pip
     * install where (with a button that runs it in a terminal) and returns false.
     */
    async kernelReady(): Promise<boolean> {
        const server = this.interpreter?.command;
        if (!server || this.state !== 'running') {
            return true; // the server's own error (or the fallback command) explains it
        }
        const kernelSetting = this.currentSettings().kernelInterpreter;
        const kernel = kernelSetting ? [kernelSetting] : server;
        const key = JSON.stringify([server, kernel]);
        if (this.kernelChecked.has(key)) {
            return true;
        }
        const same = !kernelSetting;
        const wanted = same ? ['torch', 'paddle', 'ipykernel', 'jupyter_client'] : ['torch', 'paddle', 'ipykernel'];
        const missing = [{ interpreter: kernel, modules: (await missingModules(kernel, wanted)) ?? [] }];
        if (!same) {
            missing.push({ interpreter: server, modules: (await missingModules(server, ['jupyter_client'])) ?? [] });
        }
        const message = kernelPackagesMessage(missing);
        if (!message) {
            this.kernelChecked.add(key);
            return true;
        }
        this.deps.channel.error(message);
        const install = 'Install in Terminal';
        const copy = 'Copy Command';
        const choice = await vscode.window.showErrorMessage(message, install, copy);
        const command = kernelInstallCommand(missing);
        if (choice === install) {
            const terminal = vscode.window.createTerminal({ name: 'Paddleport: kernel packages' });
            terminal.show();
            terminal.sendText(command, true);
        } else if (choice === copy) {
            await vscode.env.clipboard.writeText(command);
        }
        return false;
    }

    /**
     * While no server provides them, the server's command ids get placeholders
     * that say why nothing happens (instead of "command not found"). They are
     * disposed before the client starts, which registers the real ones.
     */
    private registerFallbacks(commands: readonly string[] = SERVER_COMMANDS): void {
        this.disposeFallbacks();
        for (const command of commands) {
            this.fallbacks.push(vscode.commands.registerCommand(command, () => this.explainUnavailable(command)));
        }
    }

    private disposeFallbacks(): void {
        this.fallbacks.forEach((d) => d.dispose());
        this.fallbacks = [];
    }

    private async explainUnavailable(command: string): Promise<void> {
        const refusal = refusalFor(command, vscode.workspace.isTrusted);
        if (refusal) {
            this.deps.host.showRefusal(refusal);
            return;
        }
        let message: string;
        switch (this.state) {
            case 'disabled':
                message = 'Paddleport is turned off (paddleport.enable).';
                break;
            case 'starting':
                message = 'Paddleport: the server is still starting; try again in a moment.';
                break;
            case 'running':
                message = `Paddleport: this server does not provide ${command}; update the paddleport package.`;
                break;
            default:
                message = 'Paddleport: the server is not running. See the log for why.';
        }
        const logs = 'Show Logs';
        const restart = 'Restart Server';
        const choice = await vscode.window.showWarningMessage(message, logs, restart);
        if (choice === logs) {
            this.deps.channel.show();
        } else if (choice === restart) {
            await vscode.commands.executeCommand(Commands.restart);
        }
    }

    /** Stops the server; every call returns the same promise, so callers can wait for the end. */
    dispose(): Promise<void> {
        this.disposed = true;
        this.disposing ??= (async () => {
            this.disposeFallbacks();
            this.disposables.forEach((d) => d.dispose());
            await this.stopClient();
        })();
        return this.disposing;
    }
}
