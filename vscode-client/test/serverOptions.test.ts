import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serverCommand, serverExecutable } from '../src/serverOptions';

describe('server command line', () => {
    it('is `<python> -P -m paddleport lsp`: the workspace never on sys.path', () => {
        assert.deepEqual(serverCommand(['/venv/bin/python']), {
            command: '/venv/bin/python',
            args: ['-P', '-m', 'paddleport', 'lsp'],
        });
    });

    it('keeps the extra words of a multi-word interpreter before -m', () => {
        assert.deepEqual(serverCommand(['conda', 'run', '-n', 'port', 'python']), {
            command: 'conda',
            args: ['run', '-n', 'port', 'python', '-P', '-m', 'paddleport', 'lsp'],
        });
    });

    it('refuses an empty interpreter', () => {
        assert.throws(() => serverCommand([]), /No Python interpreter/);
    });

    it('uses stdio without extra arguments, the workspace folder as cwd and a UTF-8 environment', () => {
        const executable = serverExecutable(['python3'], { cwd: '/ws', env: { PATH: '/bin' } });
        // TransportKind.stdio would make the client append `--stdio`; undefined means plain stdio.
        assert.equal('transport' in executable, false);
        assert.equal(executable.command, 'python3');
        assert.deepEqual(executable.args, ['-P', '-m', 'paddleport', 'lsp']);
        assert.deepEqual(executable.options, {
            cwd: '/ws',
            env: { PATH: '/bin', PYTHONUTF8: '1', PYTHONUNBUFFERED: '1', PYTHONSAFEPATH: '1' },
        });
    });
});
