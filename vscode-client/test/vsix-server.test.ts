/**
 * The packaged .vsix against a real Python that has no paddleport: unpacks
 * paddleport.vsix (built by `npm run package`; skipped when absent), makes a
 * bare venv (no packages), and starts the bundled server with the extension's
 * exact command line and environment (`serverExecutable` with `bundledLibs`).
 * It must answer `initialize` and report a torch use of an opened file.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
// @ts-expect-error: a plain .mjs script without type declarations
import { listZip, readEntry } from '../scripts/zip.mjs';
import { BUNDLED_IMPORT, checkPaddleportImport } from '../src/interpreter';
import { serverEnvironment, serverExecutable } from '../src/serverOptions';

const VSIX = path.join(__dirname, '..', '..', 'paddleport.vsix');

/** A venv without packages (not even pip) made from a CPython `version` found on this machine. */
function bareInterpreter(dir: string, version: string): string | undefined {
    const [major, minor] = version.split('.');
    const candidates = version === '3.11' ? ['/usr/bin/python3', 'python3.11'] : [`python${version}`];
    for (const python of candidates) {
        const venv = path.join(dir, `venv-${version}`);
        const env = { ...process.env, PYENV_VERSION: pyenvVersion(version) ?? process.env.PYENV_VERSION };
        const probe = spawnSync(python, ['-c', `import sys; assert sys.version_info[:2] == (${major}, ${minor})`], { env });
        if (probe.status !== 0) {
            continue;
        }
        if (spawnSync(python, ['-m', 'venv', '--without-pip', venv], { env }).status === 0) {
            return path.join(venv, 'bin', 'python');
        }
    }
    return undefined;
}

/** pyenv's shims need the full version (3.13.0) to pick a non-global interpreter. */
function pyenvVersion(version: string): string | undefined {
    const root = path.join(os.homedir(), '.pyenv', 'versions');
    return fs.existsSync(root) ? fs.readdirSync(root).find((v) => v.startsWith(`${version}.`)) : undefined;
}

function unpack(vsix: string, into: string): void {
    const buffer = fs.readFileSync(vsix);
    for (const entry of listZip(buffer) as { name: string }[]) {
        if (entry.name.endsWith('/')) {
            continue;
        }
        const target = path.join(into, entry.name);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, readEntry(buffer, entry));
    }
}

/** Just enough of an LSP client over stdio. */
class Client {
    private buffer = Buffer.alloc(0);
    private nextId = 1;
    private readonly pending = new Map<number, (result: unknown) => void>();
    readonly notifications: { method: string; params: any }[] = [];
    stderr = '';

    constructor(private readonly proc: ChildProcess) {
        proc.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
        proc.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    }

    private onData(chunk: Buffer): void {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        for (;;) {
            const end = this.buffer.indexOf('\r\n\r\n');
            if (end < 0) {
                return;
            }
            const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())?.[1]);
            if (this.buffer.length < end + 4 + length) {
                return;
            }
            const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
            this.buffer = this.buffer.subarray(end + 4 + length);
            this.onMessage(message);
        }
    }

    private onMessage(message: any): void {
        if (message.id !== undefined && message.method) {
            // A server request: configuration gets the defaults (null), the rest an empty result.
            const result = message.method === 'workspace/configuration' ? message.params.items.map(() => null) : null;
            this.send({ id: message.id, result });
        } else if (message.id !== undefined) {
            this.pending.get(message.id)?.(message.error ? { error: message.error } : message.result);
        } else {
            this.notifications.push(message);
        }
    }

    send(message: object): void {
        const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
        this.proc.stdin!.write(`Content-Length: ${body.length}\r\n\r\n`);
        this.proc.stdin!.write(body);
    }

    request(method: string, params: unknown, timeoutMs = 60_000): Promise<any> {
        const id = this.nextId++;
        this.send({ id, method, params });
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`${method} timed out; stderr:\n${this.stderr}`)), timeoutMs);
            this.pending.set(id, (result) => {
                clearTimeout(timer);
                resolve(result);
            });
        });
    }

    notify(method: string, params: unknown): void {
        this.send({ method, params });
    }

    async waitFor(predicate: (n: { method: string; params: any }) => boolean, timeoutMs = 60_000): Promise<{ method: string; params: any }> {
        const start = Date.now();
        for (;;) {
            const found = this.notifications.find(predicate);
            if (found) {
                return found;
            }
            if (Date.now() - start > timeoutMs) {
                throw new Error(`timed out; stderr:\n${this.stderr}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
    }
}

describe('the packaged .vsix runs its bundled server with a Python that has no paddleport', { timeout: 180_000 }, () => {
    let tmp = '';
    let libs = '';
    let bundledPythons: string[] = [];
    let proc: ChildProcess | undefined;

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'paddleport-vsix-'));
        if (!fs.existsSync(VSIX)) {
            return;
        }
        unpack(VSIX, path.join(tmp, 'vsix'));
        libs = path.join(tmp, 'vsix', 'extension', 'bundled', 'libs');
        const manifest = JSON.parse(fs.readFileSync(path.join(tmp, 'vsix', 'extension', 'bundled', 'manifest.json'), 'utf8'));
        bundledPythons = String(manifest.python).split(/,\s*/);
    });
    after(() => {
        proc?.kill();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    // The extension host's environment, without anything that could lend the interpreter a paddleport.
    const hostEnv = (): NodeJS.ProcessEnv => {
        const env: NodeJS.ProcessEnv = { ...process.env, PYTHONNOUSERSITE: '1' };
        delete env.PYTHONPATH;
        delete env.PYTHONHOME;
        return env;
    };

    async function serves(t: { skip(message: string): void }, version: string): Promise<void> {
        if (!fs.existsSync(VSIX)) {
            t.skip('no paddleport.vsix: run `npm run package` first');
            return;
        }
        if (!bundledPythons.includes(version)) {
            t.skip(`the bundle is not built for CPython ${version}`);
            return;
        }
        const python = bareInterpreter(tmp, version);
        if (!python) {
            t.skip(`no CPython ${version} here to make a bare venv with`);
            return;
        }

        // Without the bundle the bare interpreter has no paddleport; with it, the extension's check passes.
        const without = await checkPaddleportImport([python], undefined, { env: hostEnv() });
        assert.equal(without.ok, false);
        const withBundle = await checkPaddleportImport([python], undefined, {
            env: serverEnvironment(hostEnv(), libs),
            code: BUNDLED_IMPORT,
        });
        assert.deepEqual(withBundle, { ok: true });

        // A hostile workspace: a pygls.py there must never be imported (-P, PYTHONSAFEPATH).
        const workspace = path.join(tmp, `ws-${version}`);
        fs.mkdirSync(workspace);
        const marker = path.join(tmp, `imported-from-workspace-${version}`);
        fs.writeFileSync(path.join(workspace, 'pygls.py'), `open(${JSON.stringify(marker)}, 'w').close()\n`);
        const file = path.join(workspace, 'model.py');
        const text = 'import torch\n\nx = torch.zeros(3)\ny = torch.cat([x, x], dim=0)\n';
        fs.writeFileSync(file, text);

        const executable = serverExecutable([python], { cwd: workspace, env: hostEnv(), bundledLibs: libs });
        assert.deepEqual(executable.args, ['-P', '-m', 'paddleport', 'lsp']);
        proc = spawn(executable.command, executable.args, { ...executable.options, stdio: 'pipe' });
        const client = new Client(proc);
        const uri = `file://${file}`;
        const init = await client.request('initialize', {
            processId: process.pid,
            rootUri: `file://${workspace}`,
            workspaceFolders: [{ uri: `file://${workspace}`, name: 'ws' }],
            capabilities: { workspace: { configuration: true } },
            initializationOptions: {},
        });
        assert.ok(init.capabilities, `capabilities; stderr:\n${client.stderr}`);
        assert.ok(init.capabilities.executeCommandProvider.commands.includes('paddleport.convertFile'));
        assert.ok(init.capabilities.codeActionProvider);
        client.notify('initialized', {});
        client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
        const published = await client.waitFor(
            (n) => n.method === 'textDocument/publishDiagnostics' && n.params.uri === uri && n.params.diagnostics.length > 0,
        );
        const codes = published.params.diagnostics.map((d: { code: unknown }) => d.code);
        assert.ok(codes.includes('torch.zeros') && codes.includes('torch.cat'), JSON.stringify(codes));
        assert.ok(published.params.diagnostics.every((d: { source: string }) => d.source === 'paddleport'));
        await client.request('shutdown', null);
        client.notify('exit', null);
        await new Promise((resolve) => proc!.once('exit', resolve));
        assert.equal(fs.existsSync(marker), false, "the workspace's pygls.py was imported");
    }

    it('CPython 3.11 (Debian\'s): passes the import check only with the bundle, answers initialize, reports torch uses', (t) =>
        serves(t, '3.11'));
    it('CPython 3.12: the same, with libcst\'s parser for 3.12 from the bundle', (t) => serves(t, '3.12'));
    it('CPython 3.13: the same', (t) => serves(t, '3.13'));

    // Slow (starts torch and Paddle): only with PADDLEPORT_KERNEL_PYTHON, a Python that has them,
    // e.g. `PADDLEPORT_KERNEL_PYTHON=$PWD/.venv/bin/python node --test out/test/vsix-server.test.js`.
    it('runs an equivalence check through the bundled server (kernel from bundled/libs)', async (t) => {
        const kernelPython = process.env.PADDLEPORT_KERNEL_PYTHON;
        if (!fs.existsSync(VSIX) || !kernelPython) {
            t.skip('set PADDLEPORT_KERNEL_PYTHON to a Python with torch and paddle (and build the .vsix)');
            return;
        }
        const workspace = fs.mkdtempSync(path.join(tmp, 'kernel-ws-'));
        const file = path.join(workspace, 'pairs.py');
        const text = [
            'import torch',
            '',
            '# paddleport: example pairs(randn(3, 4))',
            'def pairs(x):',
            '    y = torch.matmul(x, x.transpose(0, 1))',
            '    return y * 2',
            '',
        ].join('\n');
        fs.writeFileSync(file, text);
        const executable = serverExecutable([kernelPython], { cwd: workspace, env: hostEnv(), bundledLibs: libs });
        const server = spawn(executable.command, executable.args, { ...executable.options, stdio: 'pipe' });
        try {
            const client = new Client(server);
            const uri = `file://${file}`;
            await client.request('initialize', {
                processId: process.pid,
                rootUri: `file://${workspace}`,
                capabilities: {},
                initializationOptions: { equivalence: { timeout: 120 } },
            });
            client.notify('initialized', {});
            client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });
            const result = await client.request(
                'workspace/executeCommand',
                { command: 'paddleport.checkEquivalence', arguments: [{ uri, position: { line: 4, character: 4 } }] },
                170_000,
            );
            assert.equal(result.status, 'equal', JSON.stringify(result) + client.stderr);
            await client.request('shutdown', null);
            client.notify('exit', null);
        } finally {
            server.kill();
        }
    });
});
