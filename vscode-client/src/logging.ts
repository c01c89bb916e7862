/** The log channel's level decides how much of the LSP traffic is traced. */

/** Numeric values of `vscode.LogLevel`. */
export const LogLevel = { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 } as const;

/** Numeric values of vscode-jsonrpc's `Trace`. */
export const Trace = { Off: 0, Messages: 1, Compact: 2, Verbose: 3 } as const;
export type TraceValue = (typeof Trace)[keyof typeof Trace];

/** Trace → every message with its content; Debug → message names only; otherwise no trace. */
export function traceForLogLevel(level: number): TraceValue {
    switch (level) {
        case LogLevel.Trace:
            return Trace.Verbose;
        case LogLevel.Debug:
            return Trace.Messages;
        default:
            return Trace.Off;
    }
}
