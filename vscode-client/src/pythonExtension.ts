/** Access to the Python extension's public API (ms-python.python), when it is installed. */
import * as vscode from 'vscode';
import type { PythonEnvironmentsApi } from './interpreter';

export const PYTHON_EXTENSION_ID = 'ms-python.python';

interface PythonExtensionApi {
    environments?: PythonEnvironmentsApi & {
        onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
    };
}

/** The `environments` API, or undefined when the extension is missing or too old. */
export async function getPythonEnvironments(
    log: (message: string) => void,
): Promise<(PythonEnvironmentsApi & { onDidChangeActiveEnvironmentPath?: vscode.Event<unknown> }) | undefined> {
    const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!extension) {
        return undefined;
    }
    try {
        const api = extension.isActive ? extension.exports : await extension.activate();
        return api?.environments;
    } catch (error) {
        log(`The Python extension failed to activate: ${String(error)}`);
        return undefined;
    }
}
