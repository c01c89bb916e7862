import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
    ConfigReader,
    DEFAULTS,
    VariableContext,
    answerConfiguration,
    didChangeConfigurationParams,
    readInterpreterSetting,
    readSettings,
    resolveVariables,
} from '../src/settings';

const vars: VariableContext = { workspaceFolder: '/ws', userHome: '/home/me', env: { VENV: '/venvs/port' } };

function reader(values: Record<string, unknown>): ConfigReader {
    return { get: <T>(key: string) => values[key] as T | undefined };
}

/** package.json at the repo root (tests run from out/test/ or the root). */
function manifest(): { contributes: { configuration: { properties: Record<string, { default: unknown }> } } } {
    for (const candidate of [join(__dirname, '..', '..', 'package.json'), join(process.cwd(), 'package.json')]) {
        try {
            return JSON.parse(readFileSync(candidate, 'utf8'));
        } catch {
            // try the next one
        }
    }
    throw new Error('package.json not found');
}

describe('settings passed as initializationOptions', () => {
    it('are the defaults when nothing is set, with equivalenceEnabled from trust', () => {
        assert.deepEqual(readSettings(reader({}), true, vars), { ...DEFAULTS });
        assert.equal(readSettings(reader({}), false, vars).equivalenceEnabled, false);
    });

    it('load no project rule folders in an untrusted workspace (rule files become code)', () => {
        const config = reader({ extraRuleFolders: ['${workspaceFolder}/.paddleport/rules', '/home/me/rules'] });
        assert.deepEqual(readSettings(config, true, vars).extraRuleFolders.length, 2);
        assert.deepEqual(readSettings(config, false, vars).extraRuleFolders, []);
    });

    it('carry every setting the user gave', () => {
        const settings = readSettings(
            reader({
                enable: false,
                run: 'onSave',
                severity: { exact: 'hint', review: 'error', manual: 'off' },
                ruleSeverity: { 'torch.nn.Conv2d': 'information' },
                extraRuleFolders: ['${workspaceFolder}/rules', '~/more'],
                annotate: true,
                kernelInterpreter: '${env:VENV}/bin/python',
                'equivalence.rtol': 1e-3,
                'equivalence.atol': 0,
                'equivalence.timeout': 5,
            }),
            true,
            vars,
        );
        assert.deepEqual(settings, {
            enable: false,
            run: 'onSave',
            severity: { exact: 'hint', review: 'error', manual: 'off' },
            ruleSeverity: { 'torch.nn.Conv2d': 'information' },
            extraRuleFolders: ['/ws/rules', '/home/me/more'],
            annotate: true,
            kernelInterpreter: '/venvs/port/bin/python',
            equivalence: { rtol: 1e-3, atol: 0, timeout: 5 },
            equivalenceEnabled: true,
        });
    });

    it('replace malformed values by defaults, tier by tier and rule by rule', () => {
        const settings = readSettings(
            reader({
                enable: 'yes',
                run: 'always',
                severity: { exact: 'fatal', manual: 'hint', extra: 'error' },
                ruleSeverity: { 'torch.a': 'loud', 'torch.b': 'off', '': 'error' },
                extraRuleFolders: 'single/folder',
                'equivalence.rtol': -1,
                'equivalence.atol': 'small',
                'equivalence.timeout': 0,
            }),
            true,
            vars,
        );
        assert.equal(settings.enable, true);
        assert.equal(settings.run, 'onType');
        assert.deepEqual(settings.severity, { exact: 'warning', review: 'warning', manual: 'hint' });
        assert.deepEqual(settings.ruleSeverity, { 'torch.b': 'off' });
        assert.deepEqual(settings.extraRuleFolders, ['single/folder']);
        assert.deepEqual(settings.equivalence, DEFAULTS.equivalence);
    });

    it("match the defaults declared in package.json's contributes.configuration", () => {
        const properties = manifest().contributes.configuration.properties;
        assert.equal(properties['paddleport.enable'].default, DEFAULTS.enable);
        assert.equal(properties['paddleport.run'].default, DEFAULTS.run);
        assert.deepEqual(properties['paddleport.severity'].default, DEFAULTS.severity);
        assert.deepEqual(properties['paddleport.ruleSeverity'].default, DEFAULTS.ruleSeverity);
        assert.deepEqual(properties['paddleport.extraRuleFolders'].default, DEFAULTS.extraRuleFolders);
        assert.equal(properties['paddleport.annotate'].default, DEFAULTS.annotate);
        assert.equal(properties['paddleport.kernelInterpreter'].default, DEFAULTS.kernelInterpreter);
        assert.equal(properties['paddleport.equivalence.rtol'].default, 1e-5);
        assert.equal(properties['paddleport.equivalence.atol'].default, 1e-6);
        assert.equal(properties['paddleport.equivalence.timeout'].default, 60);
        assert.deepEqual(properties['paddleport.interpreter'].default, []);
        // Every setting the server receives is contributed (equivalenceEnabled comes from trust).
        for (const key of Object.keys(DEFAULTS).filter((k) => k !== 'equivalence' && k !== 'equivalenceEnabled')) {
            assert.ok(`paddleport.${key}` in properties, `paddleport.${key} is contributed`);
        }
    });
});

describe('the interpreter setting', () => {
    it('accepts an array or a single string, expanding variables', () => {
        assert.deepEqual(readInterpreterSetting(reader({ interpreter: ['${workspaceFolder}/.venv/bin/python'] }), vars), [
            '/ws/.venv/bin/python',
        ]);
        assert.deepEqual(readInterpreterSetting(reader({ interpreter: '~/py/bin/python' }), vars), ['/home/me/py/bin/python']);
        assert.deepEqual(readInterpreterSetting(reader({ interpreter: [] }), vars), []);
        assert.deepEqual(readInterpreterSetting(reader({ interpreter: '' }), vars), []);
        assert.deepEqual(readInterpreterSetting(reader({}), vars), []);
    });

    it('leaves ${workspaceFolder} alone without a folder', () => {
        assert.equal(resolveVariables('${workspaceFolder}/x', { userHome: '/h', env: {} }), '${workspaceFolder}/x');
        assert.equal(resolveVariables('${userHome}/x${env:NOPE}', { userHome: '/h', env: {} }), '/h/x');
    });
});

describe('workspace/configuration and didChangeConfiguration', () => {
    const settings = readSettings(reader({ run: 'onSave' }), false, vars);

    it('answer the paddleport section with the settings object and keep other answers', () => {
        const answers = answerConfiguration(
            [{ section: 'paddleport' }, { section: 'python' }, { section: 'paddleport.equivalence' }, {}],
            [{ raw: true }, { python: 1 }, { raw: true }, { all: 1 }],
            settings,
        );
        assert.deepEqual(answers, [settings, { python: 1 }, settings.equivalence, { all: 1 }]);
    });

    it('send {settings: {paddleport: ...}}', () => {
        assert.deepEqual(didChangeConfigurationParams(settings), { settings: { paddleport: settings } });
    });
});
