/**
 * Which Python runs the server, and whether it can import paddleport.
 *
 * Order: the `paddleport.interpreter` setting, then the Python extension's
 * active environment, then `python3` (`python` on Windows).
 */
import { execFile } from 'node:child_process';
import * as os from 'node:os';

export type InterpreterSource = 'setting' | 'python-extension' | 'default';

export interface Interpreter {
    /** The command that starts Python, e.g. `["/venv/bin/python"]` or `["conda", "run", "-n", "x", "python"]`. */
    command: string[];
    source: InterpreterSource;
}

/** The slice of the Python extension's API we use (ms-python.python `environments`). */
export interface PythonEnvironmentsApi {
    getActiveEnvironmentPath(resource?: unknown): { id: string; path: string } | Promise<{ id: string; path: string }>;
    resolveEnvironment(
        environment: { id: string; path: string } | string,
    ): Promise<{ executable: { uri?: { fsPath: string } } } | undefined>;
}

export function defaultInterpreter(platform: NodeJS.Platform = process.platform): string[] {
    return [platform === 'win32' ? 'python' : 'python3'];
}

/**
 * The active interpreter of the Python extension, or undefined when it is not
 * installed, has none selected, or fails.
 */
export async function interpreterFromPythonExtension(
    api: PythonEnvironmentsApi | undefined,
    resource?: unknown,
    log?: (message: string) => void,
): Promise<string | undefined> {
    if (!api) {
        return undefined;
    }
    try {
        const envPath = await api.getActiveEnvironmentPath(resource);
        const resolved = await api.resolveEnvironment(envPath);
        const executable = resolved?.executable.uri?.fsPath;
        return executable || undefined;
    } catch (error) {
        log?.(`Could not ask the Python extension for its interpreter: ${String(error)}`);
        return undefined;
    }
}

export async function resolveInterpreter(options: {
    setting: string[];
    pythonApi?: PythonEnvironmentsApi;
    resource?: unknown;
    platform?: NodeJS.Platform;
    log?: (message: string) => void;
}): Promise<Interpreter> {
    if (options.setting.length > 0) {
        return { command: options.setting, source: 'setting' };
    }
    const fromExtension = await interpreterFromPythonExtension(options.pythonApi, options.resource, options.log);
    if (fromExtension) {
        return { command: [fromExtension], source: 'python-extension' };
    }
    return { command: defaultInterpreter(options.platform), source: 'default' };
}

/** Quotes a word for display in a shell command line. */
export function shellQuote(word: string): string {
    if (word !== '' && /^[\w@%+=:,./\\-]+$/.test(word)) {
        return word;
    }
    return `"${word.replace(/(["\\$`])/g, '\\$1')}"`;
}

export function commandLine(words: readonly string[]): string {
    return words.map(shellQuote).join(' ');
}

/** The command a user runs to install the server into the interpreter. */
export function pipInstallCommand(interpreter: readonly string[]): string {
    return commandLine([...interpreter, '-m', 'pip', 'install', 'paddleport']);
}

export function describeSource(source: InterpreterSource): string {
    switch (source) {
        case 'setting':
            return 'from the paddleport.interpreter setting';
        case 'python-extension':
            return "the Python extension's selected environment";
        case 'default':
            return 'the default, as neither paddleport.interpreter nor the Python extension names one';
    }
}

/** The message shown when the interpreter cannot import paddleport. */
export function missingPackageMessage(interpreter: Interpreter, detail?: string): string {
    const reason = detail ? ` (${detail})` : '';
    return (
        `Paddleport cannot start: ${commandLine(interpreter.command)} (${describeSource(interpreter.source)}) ` +
        `cannot import paddleport${reason}. Install it with: ${pipInstallCommand(interpreter.command)} ` +
        '— or choose another interpreter with the paddleport.interpreter setting or the Python extension.'
    );
}

export type ImportCheck = { ok: true } | { ok: false; detail: string };

export type ExecFileLike = (
    file: string,
    args: string[],
    options: { timeout: number; env?: NodeJS.ProcessEnv; cwd?: string },
) => Promise<{ stdout: string; stderr: string }>;

export const execFileAsync: ExecFileLike = (file, args, options) =>
    new Promise((resolve, reject) => {
        execFile(file, args, { ...options, windowsHide: true }, (error, stdout, stderr) => {
            if (error) {
                reject(Object.assign(error, { stdout: String(stdout), stderr: String(stderr) }));
            } else {
                resolve({ stdout: String(stdout), stderr: String(stderr) });
            }
        });
    });

/**
 * The argv of the import check: `<python> -P -c "import paddleport"`. `-P` keeps the
 * working folder off `sys.path`, so a workspace file named `paddleport.py` is never run.
 */
export function importCheckArgs(interpreter: readonly string[]): { file: string; args: string[] } {
    return { file: interpreter[0], args: [...interpreter.slice(1), '-P', '-c', 'import paddleport'] };
}

/**
 * Runs the import check from a neutral folder (the system's temporary folder, never the
 * workspace) with `PYTHONSAFEPATH=1`; never throws.
 */
export async function checkPaddleportImport(
    interpreter: readonly string[],
    exec: ExecFileLike = execFileAsync,
    options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<ImportCheck> {
    const { file, args } = importCheckArgs(interpreter);
    try {
        await exec(file, args, {
            timeout: options.timeoutMs ?? 30_000,
            cwd: options.cwd ?? os.tmpdir(),
            env: { ...(options.env ?? process.env), PYTHONSAFEPATH: '1' },
        });
        return { ok: true };
    } catch (error) {
        return { ok: false, detail: importFailureDetail(error) };
    }
}

function importFailureDetail(error: unknown): string {
    const err = error as { code?: unknown; stderr?: string; killed?: boolean; message?: string };
    if (err.code === 'ENOENT') {
        return 'interpreter not found';
    }
    if (err.killed) {
        return 'the check timed out';
    }
    const lastLine = (err.stderr ?? '')
        .trim()
        .split(/\r?\n/)
        .filter((line) => line.trim())
        .pop();
    return lastLine ?? err.message ?? String(error);
}
