/**
 * Starts, stops and restarts the language server, one per window.
 */
import * as os from 'node:os';
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
    Interpreter,
    PythonEnvironmentsApi,
    checkPaddleportImport,
    commandLine,
    describeSource,
    missingPackageMessage,
    pipInstallCommand,
    resolveInterpreter,
} from './interpreter';
import { getPythonEnvironments } from './pythonExtension';
import { serverCommand, serverExecutable } from './serverOptions';
import {
    PaddleportSettings,
    SECTION,
    VariableContext,
    answerConfiguration,
    didChangeConfigurationParams,
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

export interface ServerManagerDeps {
    channel: vscode.LogOutputChannel;
    statusBar: StatusBar;
    host: CommandHost;
    extensionVersion: string;
    /** Injected in tests; defaults to the real import check. */
    checkImport?: typeof checkPaddleportImport;
}

export class ServerManager implements vscode.Disposable {
    private client: LanguageClient | undefined;
    private state: ServerState = 'stopped';
    private interpreter: Interpreter | undefined;
    private settings: PaddleportSettings | undefined;
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
            workspaceTrusted: vscode.workspace.isTrusted,
            logLevel: this.deps.channel.logLevel,
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

        const check = await (this.deps.checkImport ?? checkPaddleportImport)(interpreter.command, undefined, {
            env: process.env,
        });
        if (!check.ok) {
            this.state = 'failed';
            const message = missingPackageMessage(interpreter, check.detail);
            this.deps.channel.error(message);
            void this.offerInstall(interpreter, message);
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
        const executable = serverExecutable(interpreter.command, { cwd: folder?.uri.fsPath, env: process.env });
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

    private async offerInstall(interpreter: Interpreter, message: string): Promise<void> {
        const install = 'Install in Terminal';
        const copy = 'Copy Command';
        const logs = 'Show Logs';
        const choice = await vscode.window.showErrorMessage(message, install, copy, logs);
        const command = pipInstallCommand(interpreter.command);
        if (choice === install) {
            const terminal = vscode.window.createTerminal({ name: 'Paddleport install' });
            terminal.show();
            terminal.sendText(command, true);
            const restart = 'Restart Server';
            const after = await vscode.window.showInformationMessage(
                'Paddleport: when the install has finished, restart the server.',
                restart,
            );
            if (after === restart) {
                await this.restart();
            }
        } else if (choice === copy) {
            await vscode.env.clipboard.writeText(command);
        } else if (choice === logs) {
            this.deps.channel.show();
        }
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

    async dispose(): Promise<void> {
        if (this.disposed) {
            return;
        }
        this.disposed = true;
        this.disposeFallbacks();
        this.disposables.forEach((d) => d.dispose());
        await this.stopClient();
    }
}
