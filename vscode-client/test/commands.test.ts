import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    ActiveEditor,
    CommandHost,
    NO_PYTHON_EDITOR,
    createExecuteCommandMiddleware,
    equivalenceNotice,
    formatDebugInfo,
    ruleIdsFromDiagnosticCodes,
} from '../src/commands';
import { EQUIVALENCE_DISABLED_MESSAGE } from '../src/trust';

class FakeUri {
    constructor(private readonly value: string) {}
    toString() {
        return this.value;
    }
}

function fakeHost(options: { editor?: ActiveEditor; trusted?: boolean; pick?: string } = {}) {
    const shown: { kind: string; value: unknown }[] = [];
    const host: CommandHost = {
        isTrusted: () => options.trusted ?? true,
        activeEditor: () => options.editor,
        uriToString: (value) =>
            typeof value === 'string' ? value || undefined : value instanceof FakeUri ? value.toString() : undefined,
        pickRuleId: async () => {
            shown.push({ kind: 'pick', value: null });
            return options.pick;
        },
        showRule: async (ruleId, markdown) => {
            shown.push({ kind: 'rule', value: [ruleId, markdown] });
        },
        showDebugInfo: (info) => shown.push({ kind: 'debug', value: info }),
        showRefusal: (message) => shown.push({ kind: 'refusal', value: message }),
        showInfo: (message) => shown.push({ kind: 'info', value: message }),
    };
    return { host, shown };
}

/** A `next` that records what reaches the server and answers with `reply`. */
function fakeNext(reply: unknown = { ok: true }) {
    const sent: { command: string; args: unknown[] }[] = [];
    const next = async (command: string, args: unknown[]) => {
        sent.push({ command, args });
        return reply;
    };
    return { next, sent };
}

const editor: ActiveEditor = { uri: 'file:///ws/model.py', languageId: 'python', position: { line: 7, character: 12 } };

describe('executeCommand middleware: convertFile', () => {
    it("fills [uri] from the active editor when run from the palette", async () => {
        const { host } = fakeHost({ editor });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.convertFile', [], next);
        assert.deepEqual(sent, [{ command: 'paddleport.convertFile', args: ['file:///ws/model.py'] }]);
    });

    it('keeps a given URI (status bar) and turns a vscode.Uri (explorer menu) into a string', async () => {
        const { host } = fakeHost({ editor });
        const { next, sent } = fakeNext();
        const middleware = createExecuteCommandMiddleware(host);
        await middleware('paddleport.convertFile', ['file:///ws/other.py'], next);
        await middleware('paddleport.convertFile', [new FakeUri('file:///ws/third.py'), [new FakeUri('x')]], next);
        assert.deepEqual(
            sent.map((s) => s.args),
            [['file:///ws/other.py'], ['file:///ws/third.py']],
        );
    });

    it('converts the whole notebook when the cursor is in a cell', async () => {
        const cell = { ...editor, uri: 'vscode-notebook-cell:/ws/nb.ipynb#W1', notebookUri: 'file:///ws/nb.ipynb' };
        const { host } = fakeHost({ editor: cell });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.convertFile', [], next);
        assert.deepEqual(sent[0].args, ['file:///ws/nb.ipynb']);
    });

    it('tells the user to open a Python file instead of sending nothing useful', async () => {
        const { host, shown } = fakeHost({ editor: { ...editor, languageId: 'markdown' } });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.convertFile', [], next);
        assert.deepEqual(sent, []);
        assert.deepEqual(shown, [{ kind: 'info', value: NO_PYTHON_EDITOR }]);
    });
});

describe('executeCommand middleware: convertWorkspace', () => {
    it('sends no arguments', async () => {
        const { host } = fakeHost({ editor });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.convertWorkspace', [], next);
        assert.deepEqual(sent, [{ command: 'paddleport.convertWorkspace', args: [] }]);
    });
});

describe('executeCommand middleware: checkEquivalence', () => {
    it("fills [{uri, position}] from the active editor's cursor", async () => {
        const { host } = fakeHost({ editor });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.checkEquivalence', [], next);
        assert.deepEqual(sent[0].args, [{ uri: 'file:///ws/model.py', position: { line: 7, character: 12 } }]);
    });

    it('passes given arguments through, example included', async () => {
        const { host } = fakeHost({ editor });
        const { next, sent } = fakeNext();
        const given = { uri: 'file:///ws/a.py', position: { line: 1, character: 2 }, example: 'x = torch.ones(2)' };
        await createExecuteCommandMiddleware(host)('paddleport.checkEquivalence', [given], next);
        assert.deepEqual(sent[0].args, [given]);
    });

    it('uses the cell, not the notebook, in a notebook', async () => {
        const cell = { ...editor, uri: 'vscode-notebook-cell:/ws/nb.ipynb#W1', notebookUri: 'file:///ws/nb.ipynb' };
        const { host } = fakeHost({ editor: cell });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.checkEquivalence', [], next);
        assert.equal((sent[0].args[0] as { uri: string }).uri, 'vscode-notebook-cell:/ws/nb.ipynb#W1');
    });

    it('is refused with a message in an untrusted workspace, without reaching the server', async () => {
        const { host, shown } = fakeHost({ editor, trusted: false });
        const { next, sent } = fakeNext();
        const result = await createExecuteCommandMiddleware(host)('paddleport.checkEquivalence', [], next);
        assert.equal(result, undefined);
        assert.deepEqual(sent, []);
        assert.deepEqual(shown, [{ kind: 'refusal', value: EQUIVALENCE_DISABLED_MESSAGE }]);
    });

    it('leaves diagnostics fixes and conversion working when untrusted', async () => {
        const { host } = fakeHost({ editor, trusted: false });
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.convertFile', [], next);
        assert.equal(sent.length, 1);
    });
});

describe('executeCommand middleware: showRule', () => {
    it('asks for the rule id when missing and shows the markdown the server returns', async () => {
        const { host, shown } = fakeHost({ pick: 'torch.nn.Conv2d' });
        const { next, sent } = fakeNext({ markdown: '# torch.nn.Conv2d\n→ paddle.nn.Conv2D' });
        const result = await createExecuteCommandMiddleware(host)('paddleport.showRule', [], next);
        assert.deepEqual(sent, [{ command: 'paddleport.showRule', args: ['torch.nn.Conv2d'] }]);
        assert.deepEqual(shown, [
            { kind: 'pick', value: null },
            { kind: 'rule', value: ['torch.nn.Conv2d', '# torch.nn.Conv2d\n→ paddle.nn.Conv2D'] },
        ]);
        assert.deepEqual(result, { markdown: '# torch.nn.Conv2d\n→ paddle.nn.Conv2D' });
    });

    it('does not ask when given an id, and does nothing when the picker is cancelled', async () => {
        const given = fakeHost();
        const first = fakeNext({ markdown: 'x' });
        await createExecuteCommandMiddleware(given.host)('paddleport.showRule', ['torch.flatten'], first.next);
        assert.deepEqual(first.sent[0].args, ['torch.flatten']);
        assert.ok(!given.shown.some((s) => s.kind === 'pick'));

        const cancelled = fakeHost({ pick: undefined });
        const second = fakeNext();
        await createExecuteCommandMiddleware(cancelled.host)('paddleport.showRule', [], second.next);
        assert.deepEqual(second.sent, []);
    });

    it('offers the rule ids of reported diagnostics, once each', () => {
        assert.deepEqual(
            ruleIdsFromDiagnosticCodes(['torch.nn.Linear', { value: 'torch.cat', target: {} }, 'torch.nn.Linear', undefined, '']),
            ['torch.cat', 'torch.nn.Linear'],
        );
    });
});

describe('executeCommand middleware: debugInfo and others', () => {
    it('shows the debug info the server returns', async () => {
        const { host, shown } = fakeHost();
        const { next } = fakeNext({ version: '0.1.0', rules: 412 });
        await createExecuteCommandMiddleware(host)('paddleport.debugInfo', [], next);
        assert.deepEqual(shown, [{ kind: 'debug', value: { version: '0.1.0', rules: 412 } }]);
        assert.deepEqual(JSON.parse(formatDebugInfo({ rules: 1 }, { trusted: true })), {
            client: { trusted: true },
            server: { rules: 1 },
        });
    });

    it('passes unknown commands through untouched', async () => {
        const { host } = fakeHost();
        const { next, sent } = fakeNext();
        await createExecuteCommandMiddleware(host)('paddleport.somethingNew', [1, 'a'], next);
        assert.deepEqual(sent, [{ command: 'paddleport.somethingNew', args: [1, 'a'] }]);
    });
});

describe('equivalence verdicts shown distinctly (issue 12.6)', () => {
    it('maps pass, mismatch and error to info, warning and error notifications with Show details', () => {
        assert.deepEqual(equivalenceNotice({ status: 'equal', target: 'act', message: 'equal: 1 output(s) match' }), {
            level: 'info',
            message: 'Paddleport: ✓ act is equivalent under torch and Paddle: equal: 1 output(s) match',
        });
        assert.equal(equivalenceNotice({ status: 'mismatch', target: 'noisy', message: 'mismatch: 1 of 1 output(s) differ' })?.level, 'warning');
        assert.match(equivalenceNotice({ status: 'mismatch', target: 'noisy', message: 'x' })!.message, /✗ noisy differs/);
        const error = equivalenceNotice({ status: 'error', target: 'Head', message: 'cannot make inputs' });
        assert.equal(error?.level, 'error');
        assert.match(error!.message, /could not check Head/);
        assert.equal(equivalenceNotice({ status: 'refused', message: 'off' }), undefined, 'the server already said why');
        assert.equal(equivalenceNotice({ status: 'error', message: 'no top-level function or class at line 3' }), undefined, 'no duplicate of the server\'s message');
        assert.equal(equivalenceNotice(undefined), undefined);
    });

    it('the middleware hands the verdict to the host', async () => {
        const { host, shown } = fakeHost({ editor });
        host.showEquivalence = (notice) => shown.push({ kind: 'equivalence', value: notice });
        const { next } = fakeNext({ status: 'mismatch', target: 'noisy', message: 'mismatch' });
        await createExecuteCommandMiddleware(host)('paddleport.checkEquivalence', [], next);
        assert.deepEqual(shown.map((s) => s.kind), ['equivalence']);
        assert.equal((shown[0].value as { level: string }).level, 'warning');
    });
});
