/**
 * The whole extension against the stub `vscode` and a fake server
 * (fixtures/fake-server.cjs run by node as the "interpreter"): activation,
 * the import check, initializationOptions, workspace/configuration, the
 * status notification, and the command middleware on the real language client.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PaddleportApi, activate, deactivate } from '../src/extension';
import { LogLevel, Uri, stub } from './stub/vscode';

const FAKE_SERVER = join(__dirname, '..', '..', 'vscode-client', 'test', 'fixtures', 'fake-server.cjs');

function fakeContext(extensionPath?: string) {
    return { subscriptions: [] as { dispose(): unknown }[], extension: { packageJSON: { version: '9.9.9' } }, extensionPath };
}

async function start(
    config: Record<string, unknown> = {},
    extensionPath?: string,
): Promise<{ api: PaddleportApi; context: ReturnType<typeof fakeContext> }> {
    stub.state.config = { 'paddleport.interpreter': [process.execPath, FAKE_SERVER], ...config };
    const context = fakeContext(extensionPath);
    const api = activate(context as never);
    await api.ready;
    return { api, context };
}

async function run(command: string, ...args: unknown[]): Promise<unknown> {
    const callback = stub.state.commands.get(command);
    assert.ok(callback, `${command} is registered`);
    return callback(...args);
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const start = Date.now();
    while (!condition()) {
        if (Date.now() - start > timeoutMs) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

type Seen = {
    argv: string[];
    initializationOptions: Record<string, unknown>;
    configuration: unknown[];
    didChangeConfiguration: unknown[];
    setTrace: string[];
};

describe('extension with a running server', () => {
    let context: ReturnType<typeof fakeContext> | undefined;

    beforeEach(() => stub.reset());
    afterEach(async () => {
        await deactivate();
        context?.subscriptions.forEach((d) => d.dispose());
        context = undefined;
    });

    it('starts `<interpreter> -P -m paddleport lsp` with the settings as initializationOptions', async () => {
        const started = await start({ 'paddleport.run': 'onSave', 'paddleport.equivalence.timeout': 5 });
        context = started.context;
        assert.equal(started.api.state(), 'running');
        let seen = (await run('paddleport.debugInfo')) as Seen;
        // The server asks for the configuration after `initialized`; wait for the answer to arrive.
        for (let i = 0; i < 100 && seen.configuration === undefined; i++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            seen = (await run('paddleport.debugInfo')) as Seen;
        }
        assert.deepEqual(seen.argv, ['-P', '-m', 'paddleport', 'lsp']);
        assert.equal(seen.initializationOptions.run, 'onSave');
        assert.deepEqual(seen.initializationOptions.equivalence, { rtol: 1e-5, atol: 1e-6, timeout: 5 });
        assert.equal(seen.initializationOptions.equivalenceEnabled, true);
        assert.deepEqual(seen.configuration, [seen.initializationOptions], 'workspace/configuration answers the same object');
        assert.deepEqual(seen.didChangeConfiguration, [{ settings: { paddleport: seen.initializationOptions } }]);
        // Debug Info is logged with the client's side.
        const logged = stub.state.log.find((entry) => entry.text.startsWith('Debug info:'));
        assert.match(logged?.text ?? '', /"extensionVersion": "9.9.9"/);
        assert.match(logged?.text ?? '', /"server": "fake"/);
    });

    it('says equivalenceEnabled: false and refuses checkEquivalence in an untrusted workspace', async () => {
        stub.state.trusted = false;
        context = (await start()).context;
        const seen = (await run('paddleport.debugInfo')) as Seen;
        assert.equal(seen.initializationOptions.equivalenceEnabled, false);
        stub.openEditor('file:///ws/model.py', 'python', 2, 4);
        const result = await run('paddleport.checkEquivalence');
        assert.equal(result, undefined);
        assert.ok(stub.state.messages.some((m) => m.level === 'warning' && /Restricted Mode/.test(m.text)));
    });

    it('fills command arguments from the active editor', async () => {
        context = (await start()).context;
        stub.openEditor('file:///ws/model.py', 'python', 2, 4);
        assert.deepEqual(await run('paddleport.convertFile'), {
            command: 'paddleport.convertFile',
            arguments: ['file:///ws/model.py'],
        });
        assert.deepEqual(await run('paddleport.checkEquivalence'), {
            command: 'paddleport.checkEquivalence',
            arguments: [{ uri: 'file:///ws/model.py', position: { line: 2, character: 4 } }],
        });
    });

    it('shows a rule as a markdown document', async () => {
        context = (await start()).context;
        stub.state.inputBoxAnswers.push('torch.nn.Conv2d');
        await run('paddleport.showRule');
        const provider = stub.state.contentProviders.get('paddleport-rule');
        const preview = stub.state.executed.find((e) => e.command === 'markdown.showPreview');
        assert.ok(provider && preview, 'a markdown preview of a paddleport-rule: document');
        assert.equal(provider.provideTextDocumentContent(preview.args[0] as never), '# torch.nn.Conv2d\n\nfake rule');
    });

    it('shows torch uses of the active file in the status bar from paddleport/status', async () => {
        context = (await start()).context;
        const item = stub.state.statusBarItems[0];
        stub.openEditor('file:///ws/model.py');
        await until(() => item.visible, 'the status item');
        assert.equal(item.text, '$(flame) torch: 5');
        assert.equal(item.tooltip, '5 torch uses: Convert File rewrites 4; fix-all on save applies the 3 exact ones — click to convert the file');
        assert.deepEqual(item.command, {
            title: 'Convert File',
            command: 'paddleport.convertFile',
            arguments: ['file:///ws/model.py'],
        });
        stub.openEditor('file:///ws/README.md', 'markdown');
        assert.equal(item.visible, false, 'hidden for non-Python editors');
    });

    it("traces LSP messages into the log only while the channel's level is Trace", async () => {
        context = (await start({ 'paddleport.trace.server': 'verbose' })).context;
        const traced = () => stub.state.log.filter((entry) => entry.level === 'trace' && /workspace\/executeCommand/.test(entry.text));
        await run('paddleport.debugInfo');
        assert.equal(traced().length, 0, 'no trace at the Info level');
        stub.setLogLevel(LogLevel.Trace);
        await run('paddleport.convertWorkspace');
        assert.ok(traced().length > 0, 'requests are traced at the Trace level');
        const seen = (await run('paddleport.debugInfo')) as Seen;
        assert.deepEqual(seen.setTrace, ['verbose'], 'the server is told ($/setTrace)');
        stub.setLogLevel(LogLevel.Info);
        const after = (await run('paddleport.debugInfo')) as Seen;
        assert.deepEqual(after.setTrace, ['verbose', 'off']);
    });

    it('restarts the server when a paddleport setting changes', async () => {
        const started = await start();
        context = started.context;
        stub.state.config['paddleport.annotate'] = true;
        stub.events.configuration.fire({ affectsConfiguration: (section) => section === 'paddleport' });
        await until(() => stub.state.log.some((e) => /settings changed; restarting/.test(e.text)), 'the restart');
        await started.api.restart();
        const seen = (await run('paddleport.debugInfo')) as Seen;
        assert.equal(seen.initializationOptions.annotate, true);
    });
});

describe('extension without paddleport in the interpreter', () => {
    let context: ReturnType<typeof fakeContext> | undefined;

    beforeEach(() => stub.reset());
    afterEach(async () => {
        delete process.env.FAKE_PADDLEPORT_MISSING;
        await deactivate();
        context?.subscriptions.forEach((d) => d.dispose());
        context = undefined;
    });

    it('does not start and says what to do, never `pip install paddleport` (it is on no index)', async () => {
        process.env.FAKE_PADDLEPORT_MISSING = '1';
        const started = await start({ 'paddleport.importStrategy': 'fromEnvironment' });
        context = started.context;
        assert.equal(started.api.state(), 'failed');
        const error = stub.state.messages.find((m) => m.level === 'error');
        assert.ok(error, 'an error message');
        assert.ok(error.text.includes(`${process.execPath} ${FAKE_SERVER} -m pip install /path/to/paddleport`), error.text);
        assert.doesNotMatch(error.text, /pip install paddleport\b/);
        assert.match(error.text, /No module named 'paddleport'/);
        assert.match(error.text, /importStrategy to useBundled/);
        assert.deepEqual(error.actions, ['Open Settings', 'Show Logs']);
    });

    it('with useBundled in a build without a bundle, says so', async () => {
        process.env.FAKE_PADDLEPORT_MISSING = '1';
        context = (await start()).context;
        const error = stub.state.messages.find((m) => m.level === 'error');
        assert.match(error?.text ?? '', /no bundled server/);
    });

    it('explains, instead of "command not found", why server commands do nothing', async () => {
        process.env.FAKE_PADDLEPORT_MISSING = '1';
        context = (await start()).context;
        stub.state.messages = [];
        await run('paddleport.convertFile');
        assert.match(stub.state.messages[0]?.text ?? '', /server is not running/);
    });

    it('does not start when paddleport.enable is off', async () => {
        const started = await start({ 'paddleport.enable': false });
        context = started.context;
        assert.equal(started.api.state(), 'disabled');
        assert.deepEqual(stub.state.messages, []);
    });

    it('registers the client-side commands', async () => {
        process.env.FAKE_PADDLEPORT_MISSING = '1';
        context = (await start()).context;
        for (const command of ['paddleport.restart', 'paddleport.showLogs']) {
            assert.ok(stub.state.commands.has(command), command);
        }
    });
});

/** A fake installed extension folder with `bundled/manifest.json` and `bundled/libs/paddleport/__init__.py`. */
function fakeExtensionWithBundle(): string {
    const dir = fs.mkdtempSync(join(os.tmpdir(), 'paddleport-ext-'));
    fs.mkdirSync(join(dir, 'bundled', 'libs', 'paddleport'), { recursive: true });
    fs.writeFileSync(join(dir, 'bundled', 'libs', 'paddleport', '__init__.py'), '');
    fs.writeFileSync(join(dir, 'bundled', 'manifest.json'), JSON.stringify({ target: 'linux-x64', python: '3.11' }));
    return dir;
}

describe('importStrategy, notebooks, Show Rule, Debug Info and shutdown (issue 12)', () => {
    let context: ReturnType<typeof fakeContext> | undefined;
    const checkLog = join(os.tmpdir(), `paddleport-check-${process.pid}.jsonl`);

    beforeEach(() => {
        stub.reset();
        fs.rmSync(checkLog, { force: true });
        process.env.FAKE_CHECK_LOG = checkLog;
    });
    afterEach(async () => {
        delete process.env.FAKE_CHECK_LOG;
        delete process.env.FAKE_MISSING_MODULES;
        await deactivate();
        context?.subscriptions.forEach((d) => d.dispose());
        context = undefined;
    });

    const checks = () =>
        fs.existsSync(checkLog)
            ? fs.readFileSync(checkLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { argv: string[]; pythonPath?: string })
            : [];

    it('useBundled (the default) puts bundled/libs first on PYTHONPATH, for the import check and the server', async () => {
        const ext = fakeExtensionWithBundle();
        const libs = join(ext, 'bundled', 'libs');
        const started = await start({}, ext);
        context = started.context;
        assert.equal(started.api.state(), 'running');
        const [check] = checks();
        assert.deepEqual(check.argv, ['-P', '-c', 'import paddleport, pygls.lsp.server, libcst.native']);
        assert.equal(check.pythonPath?.split(delimiter)[0], libs);
        const seen = (await run('paddleport.debugInfo')) as { argv: string[]; pythonPath?: string };
        assert.deepEqual(seen.argv, ['-P', '-m', 'paddleport', 'lsp'], 'the same -P command line');
        assert.equal(seen.pythonPath?.split(delimiter)[0], libs);
        const logged = stub.state.log.find((entry) => entry.text.startsWith('Debug info:'))?.text ?? '';
        assert.match(logged, /"importStrategy": "useBundled"/);
        assert.match(logged, /"python": "3.11"/);
        assert.match(logged, /"logLevel": "Info"/, 'the log level by name, not 3');
    });

    it("fromEnvironment ignores the bundle: the interpreter's own paddleport", async () => {
        const ext = fakeExtensionWithBundle();
        const before = process.env.PYTHONPATH;
        delete process.env.PYTHONPATH;
        try {
            context = (await start({ 'paddleport.importStrategy': 'fromEnvironment' }, ext)).context;
            assert.deepEqual(checks()[0].argv, ['-P', '-c', 'import paddleport']);
            assert.equal(checks()[0].pythonPath, undefined);
            const seen = (await run('paddleport.debugInfo')) as { pythonPath?: string };
            assert.equal(seen.pythonPath, undefined);
        } finally {
            if (before !== undefined) {
                process.env.PYTHONPATH = before;
            }
        }
    });

    it('the bundled server failing (e.g. another CPython) names what it was built for', async () => {
        process.env.FAKE_PADDLEPORT_MISSING = '1';
        try {
            context = (await start({}, fakeExtensionWithBundle())).context;
        } finally {
            delete process.env.FAKE_PADDLEPORT_MISSING;
        }
        const error = stub.state.messages.find((m) => m.level === 'error');
        assert.match(error?.text ?? '', /built for CPython 3\.11 on linux-x64/);
    });

    it('Convert File and Check Equivalence are in the palette for notebooks, and work without a focused cell', async () => {
        const manifest = JSON.parse(fs.readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
        const palette = manifest.contributes.menus.commandPalette as { command: string; when: string }[];
        for (const command of ['paddleport.convertFile', 'paddleport.checkEquivalence']) {
            const when = palette.find((entry) => entry.command === command)?.when ?? '';
            assert.match(when, /editorLangId == python/, command);
            assert.match(when, /activeEditor == workbench\.editor\.notebook && notebookType == jupyter-notebook/, command);
        }
        context = (await start()).context;
        const cell = (uri: string) => ({ document: { uri: Uri.parse(uri), languageId: 'python' } });
        stub.state.activeNotebookEditor = {
            notebook: {
                uri: Uri.parse('file:///ws/train.ipynb'),
                notebookType: 'jupyter-notebook',
                getCells: () => [cell('vscode-notebook-cell:/ws/train.ipynb#a'), cell('vscode-notebook-cell:/ws/train.ipynb#b')],
            },
            selection: { start: 1, end: 2 },
        };
        assert.deepEqual(await run('paddleport.convertFile'), {
            command: 'paddleport.convertFile',
            arguments: ['file:///ws/train.ipynb'],
        });
        assert.deepEqual(await run('paddleport.checkEquivalence'), {
            command: 'paddleport.checkEquivalence',
            arguments: [{ uri: 'vscode-notebook-cell:/ws/train.ipynb#b', position: { line: 0, character: 0 } }],
        });
    });

    it("Show Rule lists the active file's rules from pulled diagnostics (languages.getDiagnostics)", async () => {
        const started = await start();
        context = started.context;
        // Pull mode: the client's push collection stays empty; VS Code still knows the diagnostics.
        assert.equal(started.api.state(), 'running');
        stub.openEditor('file:///ws/model.py');
        stub.state.diagnostics.set('file:///ws/model.py', [
            { source: 'paddleport', code: 'torch.nn.Conv2d', message: 'a' },
            { source: 'paddleport', code: { value: 'torch.cat', target: 'x' }, message: 'b' },
            { source: 'ruff', code: 'F401', message: 'not a rule' },
        ]);
        stub.state.quickPickAnswers.push('torch.cat');
        await run('paddleport.showRule');
        assert.deepEqual(stub.state.quickPicks[0], ['torch.cat', 'torch.nn.Conv2d', '$(edit) Another rule id…']);
        assert.ok(stub.state.contentProviders.get('paddleport-rule'));
    });

    it('Check Equivalence says exactly what to pip install when the kernel lacks torch/paddle, and does not run', async () => {
        context = (await start()).context;
        stub.openEditor('file:///ws/model.py', 'python', 2, 4);
        process.env.FAKE_MISSING_MODULES = 'torch paddle';
        stub.state.messageAnswers.push('Copy Command');
        assert.equal(await run('paddleport.checkEquivalence'), undefined);
        const error = stub.state.messages.find((m) => m.level === 'error');
        assert.match(error?.text ?? '', /-m pip install torch==2\.13\.0 paddlepaddle==3\.3\.1/);
        assert.deepEqual(error?.actions, ['Install in Terminal', 'Copy Command']);
        assert.equal(stub.state.clipboard, `${process.execPath} ${FAKE_SERVER} -m pip install torch==2.13.0 paddlepaddle==3.3.1`);
        delete process.env.FAKE_MISSING_MODULES;
        assert.deepEqual(await run('paddleport.checkEquivalence'), {
            command: 'paddleport.checkEquivalence',
            arguments: [{ uri: 'file:///ws/model.py', position: { line: 2, character: 4 } }],
        });
    });

    it('closes the log channel only after the server has stopped (no "Channel has been closed")', async () => {
        const started = await start();
        context = started.context;
        stub.setLogLevel(LogLevel.Trace); // the client traces the shutdown messages into the channel
        // VS Code: deactivate() and the subscriptions' disposal, without waiting for each other.
        context.subscriptions.forEach((d) => d.dispose());
        await deactivate();
        await until(() => stub.state.closedChannels.length > 0, 'the channel to close');
        assert.deepEqual(stub.state.writesAfterClose, []);
        assert.equal(started.api.state(), 'stopped');
        context = undefined;
    });
});
