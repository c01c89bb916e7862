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

/** `<python> -m pip install <packages>`, as a shell command line. */
export function pipInstallCommand(interpreter: readonly string[], packages: readonly string[]): string {
    return commandLine([...interpreter, '-m', 'pip', 'install', ...packages]);
}

/** What the equivalence check needs, as pip installs it: module → requirement. */
export const KERNEL_REQUIREMENTS: Readonly<Record<string, string>> = {
    torch: 'torch==2.13.0',
    paddle: 'paddlepaddle==3.3.1',
    ipykernel: 'ipykernel',
    jupyter_client: 'jupyter_client',
};

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

/** What the bundled server was built for (bundled/manifest.json). */
export interface BundleInfo {
    target: string;
    python: string;
}

/**
 * The message shown when the interpreter cannot run the server. `bundle`: the bundled server
 * it failed to run; `'none'`: importStrategy is useBundled but this build has no bundle.
 */
export function missingPackageMessage(interpreter: Interpreter, detail?: string, bundle?: BundleInfo | 'none'): string {
    const reason = detail ? ` (${detail})` : '';
    const python = `${commandLine(interpreter.command)} (${describeSource(interpreter.source)})`;
    const choose = 'choose another interpreter with the paddleport.interpreter setting or the Python extension';
    if (bundle && bundle !== 'none') {
        return (
            `Paddleport cannot run its bundled server with ${python}${reason}. The bundled server is built for ` +
            `CPython ${bundle.python} on ${bundle.target}: ${choose}, or install paddleport into that interpreter ` +
            'and set paddleport.importStrategy to fromEnvironment.'
        );
    }
    return (
        `Paddleport cannot start: ${python} cannot import paddleport${reason}. ` +
        (bundle === 'none'
            ? 'This build of the extension has no bundled server (build it with `npm run package`); '
            : 'paddleport.importStrategy is fromEnvironment: ') +
        `install paddleport there from a checkout or wheel (${pipInstallCommand(interpreter.command, ['/path/to/paddleport'])})` +
        (bundle === 'none' ? `, or ${choose}.` : `, or set paddleport.importStrategy to useBundled (the default), or ${choose}.`)
    );
}

/**
 * The message shown when the equivalence check's interpreters lack packages: the exact
 * `pip install` for each, or undefined when nothing is missing.
 */
export function kernelPackagesMessage(missing: ReadonlyArray<{ interpreter: readonly string[]; modules: readonly string[] }>): string | undefined {
    const parts = missing
        .filter((m) => m.modules.length > 0)
        .map((m) => pipInstallCommand(m.interpreter, m.modules.map((name) => KERNEL_REQUIREMENTS[name] ?? name)));
    if (parts.length === 0) {
        return undefined;
    }
    return (
        'Paddleport: the equivalence check runs torch and Paddle in a kernel, which needs packages that are ' +
        `missing. Install them with: ${parts.join(' ; ')} (or set paddleport.kernelInterpreter to a Python that has them).`
    );
}

/** The pip commands of `kernelPackagesMessage`, joined for a terminal. */
export function kernelInstallCommand(missing: ReadonlyArray<{ interpreter: readonly string[]; modules: readonly string[] }>): string {
    return missing
        .filter((m) => m.modules.length > 0)
        .map((m) => pipInstallCommand(m.interpreter, m.modules.map((name) => KERNEL_REQUIREMENTS[name] ?? name)))
        .join(' && ');
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

/** The bundled server's import check: paddleport, the LSP library and libcst's compiled parser (per CPython version). */
export const BUNDLED_IMPORT = 'import paddleport, pygls.lsp.server, libcst.native';

/**
 * The argv of the import check: `<python> -P -c "import paddleport"`. `-P` keeps the
 * working folder off `sys.path`, so a workspace file named `paddleport.py` is never run.
 */
export function importCheckArgs(interpreter: readonly string[], code = 'import paddleport'): { file: string; args: string[] } {
    return { file: interpreter[0], args: [...interpreter.slice(1), '-P', '-c', code] };
}

/** Prints the names of the given modules that the interpreter cannot find (without importing them). */
const FIND_MISSING = 'import sys, importlib.util as u; print(" ".join(n for n in sys.argv[1:] if u.find_spec(n) is None))';

/** The modules of `modules` the interpreter lacks; undefined when the interpreter cannot run at all. */
export async function missingModules(
    interpreter: readonly string[],
    modules: readonly string[],
    exec: ExecFileLike = execFileAsync,
    env: NodeJS.ProcessEnv = process.env,
): Promise<string[] | undefined> {
    try {
        const { stdout } = await exec(interpreter[0], [...interpreter.slice(1), '-P', '-c', FIND_MISSING, ...modules], {
            timeout: 30_000,
            cwd: os.tmpdir(),
            env: { ...env, PYTHONSAFEPATH: '1' },
        });
        return stdout.trim().split(/\s+/).filter(Boolean);
    } catch {
        return undefined;
    }
}

/**
 * Runs the import check from a neutral folder (the system's temporary folder, never the
 * workspace) with `PYTHONSAFEPATH=1`; never throws.
 */
export async function checkPaddleportImport(
    interpreter: readonly string[],
    exec: ExecFileLike = execFileAsync,
    options: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv; code?: string } = {},
): Promise<ImportCheck> {
    const { file, args } = importCheckArgs(interpreter, options.code);
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
    if (/Unknown option: -P/.test(err.stderr ?? '')) {
        return 'Python 3.11 or newer is needed';
    }
    const lastLine = (err.stderr ?? '')
        .trim()
        .split(/\r?\n/)
        .filter((line) => line.trim())
        .pop();
    return lastLine ?? err.message ?? String(error);
}
