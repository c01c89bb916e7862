/** The command line that starts the language server. */

export interface ServerCommand {
    command: string;
    args: string[];
}

/**
 * `[...interpreter, "-P", "-m", "paddleport", "lsp"]`, split into command and arguments.
 * `-P` (Python 3.11+, as paddleport needs) keeps the working folder, which is the
 * workspace, off `sys.path`: a workspace `argparse.py` or `pygls.py` is never imported.
 */
export function serverCommand(interpreter: readonly string[]): ServerCommand {
    if (interpreter.length === 0) {
        throw new Error('No Python interpreter to start the Paddleport server with.');
    }
    return { command: interpreter[0], args: [...interpreter.slice(1), '-P', '-m', 'paddleport', 'lsp'] };
}

/**
 * The environment of the server process: the extension host's, with UTF-8, unbuffered
 * output and safe paths (`PYTHONSAFEPATH`, for wrappers that drop `-P`) forced.
 */
export function serverEnvironment(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
    return { ...base, PYTHONUTF8: '1', PYTHONUNBUFFERED: '1', PYTHONSAFEPATH: '1' };
}

/**
 * The `Executable` for vscode-languageclient. No `transport`: the client then
 * talks over the process's stdin/stdout without appending `--stdio` to the
 * arguments (which `TransportKind.stdio` would do), so the command line is
 * exactly `<python> -P -m paddleport lsp`.
 */
export function serverExecutable(
    interpreter: readonly string[],
    options: { cwd?: string; env: NodeJS.ProcessEnv },
): { command: string; args: string[]; options: { cwd?: string; env: NodeJS.ProcessEnv } } {
    const { command, args } = serverCommand(interpreter);
    return { command, args, options: { cwd: options.cwd, env: serverEnvironment(options.env) } };
}
