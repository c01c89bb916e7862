/**
 * Reading the `paddleport.*` settings into the object the server receives as
 * `initializationOptions`, as the answer to `workspace/configuration` and in
 * `workspace/didChangeConfiguration`. Pure: the caller hands in a reader
 * (a `WorkspaceConfiguration` in the extension, a plain object in tests).
 */

export const SECTION = 'paddleport';

export const SEVERITIES = ['error', 'warning', 'information', 'hint', 'off'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TIERS = ['exact', 'review', 'manual'] as const;
export type Tier = (typeof TIERS)[number];

export type RunMode = 'onType' | 'onSave';

export interface EquivalenceSettings {
    rtol: number;
    atol: number;
    /** Seconds. */
    timeout: number;
}

/** Exactly what the server receives; keep in step with the server's settings model. */
export interface PaddleportSettings {
    enable: boolean;
    run: RunMode;
    severity: Record<Tier, Severity>;
    ruleSeverity: Record<string, Severity>;
    extraRuleFolders: string[];
    annotate: boolean;
    kernelInterpreter: string;
    equivalence: EquivalenceSettings;
    /** False in untrusted (Restricted Mode) workspaces: the check runs workspace code. */
    equivalenceEnabled: boolean;
}

/** The same defaults as `contributes.configuration` in package.json (a test keeps them equal). */
export const DEFAULTS: Readonly<PaddleportSettings> = Object.freeze<PaddleportSettings>({
    enable: true,
    run: 'onType',
    severity: { exact: 'warning', review: 'warning', manual: 'information' },
    ruleSeverity: {},
    extraRuleFolders: [],
    annotate: false,
    kernelInterpreter: '',
    equivalence: { rtol: 1e-5, atol: 1e-6, timeout: 60 },
    equivalenceEnabled: true,
});

/** What `vscode.WorkspaceConfiguration` offers, reduced to what we read. */
export interface ConfigReader {
    get<T>(key: string): T | undefined;
}

/** Values for `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~`. */
export interface VariableContext {
    workspaceFolder?: string;
    userHome: string;
    env: Record<string, string | undefined>;
}

export function resolveVariables(value: string, vars: VariableContext): string {
    let out = value;
    if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
        out = vars.userHome + out.slice(1);
    }
    out = out.replace(/\$\{userHome\}/g, vars.userHome);
    if (vars.workspaceFolder !== undefined) {
        out = out.replace(/\$\{workspaceFolder\}/g, vars.workspaceFolder);
    }
    out = out.replace(/\$\{env:([^}]+)\}/g, (_match, name: string) => vars.env[name] ?? '');
    return out;
}

function isSeverity(value: unknown): value is Severity {
    return typeof value === 'string' && (SEVERITIES as readonly string[]).includes(value);
}

function asBoolean(value: unknown, fallback: boolean): boolean {
    return typeof value === 'boolean' ? value : fallback;
}

function asNumber(value: unknown, fallback: number, { positive = false } = {}): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
        return fallback;
    }
    return value;
}

function asStringList(value: unknown): string[] {
    if (typeof value === 'string') {
        return value.trim() ? [value] : [];
    }
    if (!Array.isArray(value)) {
        return [];
    }
    return value.filter((item): item is string => typeof item === 'string' && item.trim() !== '');
}

function readSeverity(value: unknown): Record<Tier, Severity> {
    const out = { ...DEFAULTS.severity };
    if (value && typeof value === 'object') {
        for (const tier of TIERS) {
            const given = (value as Record<string, unknown>)[tier];
            if (isSeverity(given)) {
                out[tier] = given;
            }
        }
    }
    return out;
}

function readRuleSeverity(value: unknown): Record<string, Severity> {
    const out: Record<string, Severity> = {};
    if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [rule, severity] of Object.entries(value as Record<string, unknown>)) {
            if (rule.trim() && isSeverity(severity)) {
                out[rule] = severity;
            }
        }
    }
    return out;
}

/**
 * Reads the settings, falling back to the defaults for anything missing or
 * malformed, and expands variables in paths.
 */
export function readSettings(config: ConfigReader, trusted: boolean, vars: VariableContext): PaddleportSettings {
    const run = config.get<string>('run');
    return {
        enable: asBoolean(config.get('enable'), DEFAULTS.enable),
        run: run === 'onSave' || run === 'onType' ? run : DEFAULTS.run,
        severity: readSeverity(config.get('severity')),
        ruleSeverity: readRuleSeverity(config.get('ruleSeverity')),
        // Rule files become code in the user's files: an untrusted workspace gets the built-in rules only.
        extraRuleFolders: trusted
            ? asStringList(config.get('extraRuleFolders')).map((folder) => resolveVariables(folder, vars))
            : [],
        annotate: asBoolean(config.get('annotate'), DEFAULTS.annotate),
        kernelInterpreter: resolveVariables((config.get<string>('kernelInterpreter') ?? '').trim(), vars),
        equivalence: {
            rtol: asNumber(config.get('equivalence.rtol'), DEFAULTS.equivalence.rtol),
            atol: asNumber(config.get('equivalence.atol'), DEFAULTS.equivalence.atol),
            timeout: asNumber(config.get('equivalence.timeout'), DEFAULTS.equivalence.timeout, { positive: true }),
        },
        equivalenceEnabled: trusted,
    };
}

/**
 * `paddleport.interpreter` as a command (array of strings, or one string),
 * variables expanded; an empty array when unset.
 */
export function readInterpreterSetting(config: ConfigReader, vars: VariableContext): string[] {
    return asStringList(config.get('interpreter')).map((part) => resolveVariables(part, vars));
}

/**
 * Answer to `workspace/configuration`: items asking for the `paddleport`
 * section get our settings object; others keep what VS Code answered.
 */
export function answerConfiguration(
    items: ReadonlyArray<{ section?: string }>,
    defaultAnswers: readonly unknown[],
    settings: PaddleportSettings,
): unknown[] {
    return items.map((item, index) => {
        if (item.section === SECTION) {
            return settings;
        }
        if (item.section?.startsWith(SECTION + '.')) {
            return pick(settings, item.section.slice(SECTION.length + 1));
        }
        return defaultAnswers[index] ?? null;
    });
}

function pick(settings: PaddleportSettings, path: string): unknown {
    let current: unknown = settings;
    for (const key of path.split('.')) {
        if (current === null || typeof current !== 'object') {
            return null;
        }
        current = (current as Record<string, unknown>)[key];
    }
    return current ?? null;
}

/** The `workspace/didChangeConfiguration` params the server expects. */
export function didChangeConfigurationParams(settings: PaddleportSettings): { settings: { paddleport: PaddleportSettings } } {
    return { settings: { paddleport: settings } };
}
