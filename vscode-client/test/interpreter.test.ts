import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
    ExecFileLike,
    PythonEnvironmentsApi,
    checkPaddleportImport,
    importCheckArgs,
    missingPackageMessage,
    pipInstallCommand,
    resolveInterpreter,
} from '../src/interpreter';

function pythonApi(executable: string | undefined, calls: unknown[] = []): PythonEnvironmentsApi {
    return {
        getActiveEnvironmentPath(resource) {
            calls.push(['getActiveEnvironmentPath', resource]);
            return { id: 'env', path: '/envs/env' };
        },
        async resolveEnvironment(env) {
            calls.push(['resolveEnvironment', env]);
            return executable === undefined ? undefined : { executable: { uri: { fsPath: executable } } };
        },
    };
}

describe('interpreter resolution order', () => {
    it('uses the paddleport.interpreter setting first, even when the Python extension has one', async () => {
        const calls: unknown[] = [];
        const result = await resolveInterpreter({
            setting: ['/opt/venv/bin/python'],
            pythonApi: pythonApi('/envs/env/bin/python', calls),
        });
        assert.deepEqual(result, { command: ['/opt/venv/bin/python'], source: 'setting' });
        assert.deepEqual(calls, [], 'the Python extension is not asked');
    });

    it('keeps a multi-word interpreter command as given', async () => {
        const result = await resolveInterpreter({ setting: ['conda', 'run', '-n', 'port', 'python'] });
        assert.deepEqual(result.command, ['conda', 'run', '-n', 'port', 'python']);
    });

    it("falls back to the Python extension's active environment for the resource", async () => {
        const calls: unknown[] = [];
        const result = await resolveInterpreter({
            setting: [],
            pythonApi: pythonApi('/envs/env/bin/python', calls),
            resource: 'folder-uri',
        });
        assert.deepEqual(result, { command: ['/envs/env/bin/python'], source: 'python-extension' });
        assert.deepEqual(calls, [
            ['getActiveEnvironmentPath', 'folder-uri'],
            ['resolveEnvironment', { id: 'env', path: '/envs/env' }],
        ]);
    });

    it('accepts an async getActiveEnvironmentPath (older Python extension API)', async () => {
        const api: PythonEnvironmentsApi = {
            getActiveEnvironmentPath: async () => ({ id: 'x', path: '/x' }),
            resolveEnvironment: async () => ({ executable: { uri: { fsPath: '/x/bin/python' } } }),
        };
        assert.deepEqual((await resolveInterpreter({ setting: [], pythonApi: api })).command, ['/x/bin/python']);
    });

    it('falls back to python3 without the Python extension', async () => {
        assert.deepEqual(await resolveInterpreter({ setting: [], platform: 'linux' }), {
            command: ['python3'],
            source: 'default',
        });
        assert.deepEqual((await resolveInterpreter({ setting: [], platform: 'win32' })).command, ['python']);
    });

    it('falls back to python3 when the Python extension resolves nothing or throws', async () => {
        assert.equal((await resolveInterpreter({ setting: [], pythonApi: pythonApi(undefined), platform: 'linux' })).source, 'default');
        const logged: string[] = [];
        const broken: PythonEnvironmentsApi = {
            getActiveEnvironmentPath: () => {
                throw new Error('boom');
            },
            resolveEnvironment: async () => undefined,
        };
        const result = await resolveInterpreter({ setting: [], pythonApi: broken, platform: 'linux', log: (m) => logged.push(m) });
        assert.deepEqual(result.command, ['python3']);
        assert.match(logged[0], /boom/);
    });
});

describe('the paddleport import check', () => {
    it('runs `<python> -P -c "import paddleport"` from a neutral folder with PYTHONSAFEPATH', async () => {
        const seen: unknown[] = [];
        const exec: ExecFileLike = async (file, args, options) => {
            seen.push([file, args, options.cwd, options.env?.PYTHONSAFEPATH]);
            return { stdout: '', stderr: '' };
        };
        assert.deepEqual(await checkPaddleportImport(['conda', 'run', 'python'], exec), { ok: true });
        assert.deepEqual(seen, [['conda', ['run', 'python', '-P', '-c', 'import paddleport'], os.tmpdir(), '1']]);
        assert.deepEqual(importCheckArgs(['/p']), { file: '/p', args: ['-P', '-c', 'import paddleport'] });
    });

    it('never runs a paddleport.py from the workspace (real python, hostile folder)', async (t) => {
        const python = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'import sys; assert sys.version_info >= (3, 11)']).status === 0);
        if (!python) {
            t.skip('no python3.11+ on PATH');
            return;
        }
        const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
        const marker = path.join(workspace, 'pwned');
        fs.writeFileSync(path.join(workspace, 'paddleport.py'), `open(${JSON.stringify(marker)}, 'w').write('ran')\n`);
        const previous = process.cwd();
        process.chdir(workspace); // the extension host may sit anywhere, even in the workspace
        try {
            await checkPaddleportImport([python]);
        } finally {
            process.chdir(previous);
        }
        assert.equal(fs.existsSync(marker), false, 'the workspace paddleport.py was executed');
    });

    it("reports Python's last error line when the import fails", async () => {
        const exec: ExecFileLike = async () => {
            throw Object.assign(new Error('Command failed'), {
                code: 1,
                stderr: 'Traceback (most recent call last):\n  File "<string>", line 1\nModuleNotFoundError: No module named \'paddleport\'\n',
            });
        };
        assert.deepEqual(await checkPaddleportImport(['python3'], exec), {
            ok: false,
            detail: "ModuleNotFoundError: No module named 'paddleport'",
        });
    });

    it('reports a missing interpreter (real process)', async () => {
        const result = await checkPaddleportImport(['/nonexistent/bin/python']);
        assert.deepEqual(result, { ok: false, detail: 'interpreter not found' });
    });

    it('succeeds against a real process that exits 0', async () => {
        // `node -e 'process.exit(0)' -- -c 'import paddleport'`: an "interpreter" that imports anything.
        const result = await checkPaddleportImport([process.execPath, '-e', 'process.exit(0)', '--']);
        assert.deepEqual(result, { ok: true });
    });
});

describe('the install message', () => {
    it('names the pip command for the chosen interpreter', () => {
        assert.equal(pipInstallCommand(['/venv/bin/python']), '/venv/bin/python -m pip install paddleport');
        assert.equal(pipInstallCommand(['/My Envs/python']), '"/My Envs/python" -m pip install paddleport');
        const message = missingPackageMessage({ command: ['python3'], source: 'default' }, "No module named 'paddleport'");
        assert.match(message, /python3 -m pip install paddleport/);
        assert.match(message, /cannot import paddleport/);
        assert.match(message, /paddleport\.interpreter/);
    });
});
