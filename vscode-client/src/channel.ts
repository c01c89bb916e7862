/**
 * The log channel, closable without "Channel has been closed" errors: the language client
 * keeps writing after `dispose()` has resolved (e.g. "Server process exited" when the process
 * ends a moment later), and VS Code throws on writes to a disposed channel. After `close()`,
 * writes are dropped.
 */
import type * as vscode from 'vscode';

const WRITES = new Set(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace', 'clear', 'show', 'hide']);

export function closableChannel(channel: vscode.LogOutputChannel): { channel: vscode.LogOutputChannel; close(): void } {
    let closed = false;
    const guarded = new Proxy(channel, {
        get(target, prop, receiver) {
            const value: unknown = Reflect.get(target, prop, receiver);
            if (typeof value !== 'function') {
                return value;
            }
            if (prop === 'dispose') {
                return () => undefined; // only close() disposes the real channel
            }
            return (...args: unknown[]) => (closed && WRITES.has(String(prop)) ? undefined : value.apply(target, args));
        },
    });
    return {
        channel: guarded,
        close: () => {
            if (!closed) {
                closed = true;
                channel.dispose();
            }
        },
    };
}
