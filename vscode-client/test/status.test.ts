import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeftoverWatch, StatusModel, fixOnSaveEnabled, statusView } from '../src/status';

const FILE = 'file:///ws/model.py';

describe('status-bar text from paddleport/status notifications', () => {
    it('shows the count of torch uses with the fixable count in the tooltip', () => {
        assert.deepEqual(statusView({ uses: 12, fixable: 9, onSave: 7 }), {
            text: '$(flame) torch: 12',
            tooltip: '12 torch uses: Convert File rewrites 9; fix-all on save applies the 7 exact ones — click to convert the file',
        });
        assert.equal(statusView({ uses: 1, fixable: 0 }).tooltip, '1 torch use: Convert File rewrites 0 — click to convert the file');
    });

    it('shows a check mark when no torch use is left', () => {
        assert.equal(statusView({ uses: 0, fixable: 0 }).text, '$(check) torch: 0');
    });

    it("follows the active editor's file", () => {
        const model = new StatusModel();
        model.update({ uri: FILE, version: 1, uses: 3, fixable: 2 });
        model.update({ uri: 'file:///ws/other.py', version: 1, uses: 0, fixable: 0 });
        assert.equal(model.viewFor({ uri: FILE, languageId: 'python' })?.text, '$(flame) torch: 3');
        assert.equal(model.viewFor({ uri: 'file:///ws/other.py', languageId: 'python' })?.text, '$(check) torch: 0');
    });

    it('hides for non-Python editors, no editor, and files without a status yet', () => {
        const model = new StatusModel();
        model.update({ uri: FILE, version: 1, uses: 3, fixable: 2 });
        assert.equal(model.viewFor({ uri: FILE, languageId: 'markdown' }), undefined);
        assert.equal(model.viewFor(undefined), undefined);
        assert.equal(model.viewFor({ uri: 'file:///ws/new.py', languageId: 'python' }), undefined);
    });

    it('drops stale and malformed notifications', () => {
        const model = new StatusModel();
        assert.equal(model.update({ uri: FILE, version: 5, uses: 3, fixable: 2 }), true);
        assert.equal(model.update({ uri: FILE, version: 4, uses: 9, fixable: 9 }), false);
        assert.equal(model.update({ uri: FILE, uses: '3' }), false);
        assert.equal(model.update(null), false);
        assert.equal(model.get(FILE)?.uses, 3);
        assert.equal(model.update({ uri: FILE, version: null, uses: 1, fixable: 1 }), true, 'null versions always apply');
        assert.equal(model.get(FILE)?.uses, 1);
    });

    it('matches URIs after normalisation and falls back to the notebook of a cell', () => {
        const model = new StatusModel((uri) => uri.replace('%3A', ':'));
        model.update({ uri: 'file:///c%3A/ws/a.py', version: 1, uses: 2, fixable: 1 });
        assert.equal(model.viewFor({ uri: 'file:///c:/ws/a.py', languageId: 'python' })?.text, '$(flame) torch: 2');
        model.update({ uri: 'file:///ws/nb.ipynb', version: 1, uses: 4, fixable: 4 });
        const cell = { uri: 'vscode-notebook-cell:/ws/nb.ipynb#X1', languageId: 'python', notebookUri: 'file:///ws/nb.ipynb' };
        assert.equal(model.viewFor(cell)?.text, '$(flame) torch: 4');
    });
});

describe('torch uses left behind by fix-all on save (issue 12)', () => {
    it('after a fix-on-save save, says once per file that torch is left and offers Convert File', () => {
        const model = new StatusModel();
        const watch = new LeftoverWatch();
        model.update({ uri: FILE, version: 4, uses: 5, fixable: 5, onSave: 3 });
        assert.equal(watch.onStatus(model.get(FILE)!), undefined, 'no save yet');
        watch.onSaved(FILE, 5);
        assert.equal(watch.onStatus({ uri: FILE, version: 4, uses: 5, fixable: 5, onSave: 3 }), undefined, 'status from before the save');
        const message = watch.onStatus({ uri: FILE, version: 5, uses: 2, fixable: 2, onSave: 0 });
        assert.match(message ?? '', /model\.py still uses torch \(2 uses\)/);
        assert.match(message ?? '', /Convert File/);
        assert.equal(watch.isLeftover(FILE), true);
        watch.onSaved(FILE, 6);
        assert.equal(watch.onStatus({ uri: FILE, version: 6, uses: 2, fixable: 2, onSave: 0 }), undefined, 'only once per file');
        assert.equal(watch.isLeftover(FILE), true);
    });

    it('says nothing when the save left no torch use, and forgets a converted file', () => {
        const watch = new LeftoverWatch();
        watch.onSaved(FILE, 2);
        assert.equal(watch.onStatus({ uri: FILE, version: 2, uses: 0, fixable: 0, onSave: 0 }), undefined);
        assert.equal(watch.isLeftover(FILE), false);
        watch.onSaved(FILE, 3);
        watch.onStatus({ uri: FILE, version: 3, uses: 1, fixable: 1, onSave: 0 });
        assert.equal(watch.isLeftover(FILE), true);
        watch.onStatus({ uri: FILE, version: 4, uses: 0, fixable: 0, onSave: 0 });
        assert.equal(watch.isLeftover(FILE), false);
    });

    it('marks the status bar with a warning while fix-on-save has left torch uses', () => {
        const view = statusView({ uses: 2, fixable: 2, onSave: 0 }, true);
        assert.equal(view.text, '$(warning) torch: 2');
        assert.match(view.tooltip, /fix-all on save converted the exact uses; 2 torch uses are left/i);
        assert.match(view.tooltip, /click to convert the file/);
    });
});

describe('whether editor.codeActionsOnSave runs Paddleport fix-all', () => {
    it('reads the object and the array forms', () => {
        assert.equal(fixOnSaveEnabled({ 'source.fixAll.paddleport': 'explicit' }), true);
        assert.equal(fixOnSaveEnabled({ 'source.fixAll': true }), true);
        assert.equal(fixOnSaveEnabled({ 'source.fixAll.paddleport': 'never' }), false);
        assert.equal(fixOnSaveEnabled(['source.fixAll.paddleport']), true);
        assert.equal(fixOnSaveEnabled(undefined), false);
        assert.equal(fixOnSaveEnabled({ 'source.organizeImports': 'explicit' }), false);
    });
});
