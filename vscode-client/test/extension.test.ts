/**
 * The whole extension against the stub `vscode` and a fake server
 * (fixtures/fake-server.cjs run by node as the "interpreter"): activation,
 * the import check, initializationOptions, workspace/configuration, the
 * status notification, and the command middleware on the real language client.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { PaddleportApi, activate, deactivate } from '../src/extension';
import { LogLevel, stub } from './stub/vscode';

const FAKE_SERVER = join(__dirname, '..', '..', 'vscode-client', 'test', 'fixtures', 'fake-server.cjs');

function fakeContext() {
    return { subscriptions: [] as { dispose(): unknown }[], extension: { packageJSON: { version: '9.9.9' } } };
}

async function start(config: Record<string, unknown> = {}): Promise<{ api: PaddleportApi; context: ReturnType<typeof fakeContext> }> {
    stub.state.config = { 'paddleport.interpreter': [process.execPath, FAKE_SERVER], ...config };
    const context = fakeContext();
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

    it('does not start and shows the pip command to run', async () => {
        process.env.FAKE_PADDLEPORT_MISSING = '1';
        const started = await start();
        context = started.context;
        assert.equal(started.api.state(), 'failed');
        const error = stub.state.messages.find((m) => m.level === 'error');
        assert.ok(error, 'an error message');
        assert.ok(error.text.includes(`${process.execPath} ${FAKE_SERVER} -m pip install paddleport`), error.text);
        assert.match(error.text, /No module named 'paddleport'/);
        assert.deepEqual(error.actions, ['Install in Terminal', 'Copy Command', 'Show Logs']);
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
