// The extension in a real VS Code: code-server with the project's .vsix installed, on a fresh
// workspace, driven through its UI by headless Chromium (playwright-core, Debian's chromium).
// Started by tests/e2e/run.sh, which installs the tools and passes their paths:
//   E2E_CODE_SERVER, E2E_PLAYWRIGHT, E2E_CHROMIUM, E2E_VSIX, E2E_VENV_PYTHON (torch + paddle).
// The workspace Python (`paddleport.interpreter`) is a bare venv without paddleport: the bundled
// server must work there. The equivalence checks then switch the interpreter to the project venv.
// Screenshots go to $E2E_SCREENSHOTS (default build/e2e); failures also save one each.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

const env = (name) => {
    const value = process.env[name];
    if (!value) {
        throw new Error(`${name} is not set (start the test with tests/e2e/run.sh)`);
    }
    return value;
};
const CODE_SERVER = env('E2E_CODE_SERVER');
const CHROMIUM = env('E2E_CHROMIUM');
const VSIX = env('E2E_VSIX');
const VENV_PYTHON = env('E2E_VENV_PYTHON');
const { chromium } = createRequire(import.meta.url)(env('E2E_PLAYWRIGHT'));
const SHOTS = path.resolve(process.env.E2E_SCREENSHOTS || 'build/e2e');
const KEEP = process.env.E2E_KEEP === '1';
const T0 = Date.now();
const since = () => `${((Date.now() - T0) / 1000).toFixed(1)}s`;

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'paddleport-e2e-'));
const ws = path.join(root, 'workspace');
const userData = path.join(root, 'user-data');
const extensions = path.join(root, 'extensions');
const barePython = path.join(root, 'bare-venv', 'bin', 'python');
fs.mkdirSync(SHOTS, { recursive: true });

// ---- the fresh workspace -----------------------------------------------------------------------

const FILES = {
    'model.py': `import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.mean(dim=(2, 3)))
`,
    'quickfix.py': `import torch

x = torch.zeros(2, 3)
print(tuple(x.shape))
`,
    'onsave.py': `import torch
import torch.nn as nn

a = torch.zeros(2, 3)
b = torch.ones(2, 3)
bn = nn.BatchNorm2d(4, momentum=0.2)
`,
    'closeme.py': `import torch

y = torch.ones(3)
`,
    'equiv.py': `import torch
import torch.nn as nn


# paddleport: example act(randn(3, 4))
def act(x):
    return torch.relu(x) * 2


# paddleport: example noisy(randn(3, 4))
def noisy(x):
    return x + torch.rand(3, 4)


class Head(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(x)
`,
    'nb.ipynb': JSON.stringify(
        {
            cells: [
                { cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: ['import torch\n'] },
                {
                    cell_type: 'code',
                    execution_count: null,
                    metadata: {},
                    outputs: [],
                    source: ['x = torch.zeros(2, 3)\n', 'y = torch.nn.functional.relu(x)\n'],
                },
            ],
            metadata: { language_info: { name: 'python' }, kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
            nbformat: 4,
            nbformat_minor: 5,
        },
        null,
        1,
    ),
};

function settings(interpreter) {
    return {
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoUpdate': false,
        'extensions.autoCheckUpdates': false,
        'extensions.ignoreRecommendations': true,
        'files.autoSave': 'off',
        'editor.minimap.enabled': false,
        'editor.lightbulb.enabled': 'on',
        'window.dialogStyle': 'custom',
        'git.enabled': false,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'search.followSymlinks': false,
        '[python]': { 'editor.codeActionsOnSave': { 'source.fixAll.paddleport': 'explicit' } },
        'paddleport.interpreter': [interpreter],
        'paddleport.equivalence.timeout': 120,
    };
}

function writeSettings(interpreter) {
    const file = path.join(userData, 'User', 'settings.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(settings(interpreter), null, 2));
}

function prepare() {
    fs.mkdirSync(ws, { recursive: true });
    for (const [name, text] of Object.entries(FILES)) {
        fs.writeFileSync(path.join(ws, name), text);
    }
    execFileSync('python3', ['-m', 'venv', '--without-pip', path.dirname(path.dirname(barePython))]);
    try {
        execFileSync(barePython, ['-c', 'import paddleport'], { stdio: 'ignore', cwd: root });
        throw new Error('the bare venv can import paddleport: the bundled-server check would prove nothing');
    } catch (err) {
        if (String(err.message).includes('bundled-server')) {
            throw err;
        }
    }
    writeSettings(barePython);
    const t = Date.now();
    execFileSync(
        CODE_SERVER,
        ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', VSIX],
        { stdio: 'pipe' },
    );
    console.log(`e2e: .vsix installed into code-server in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

async function freePort() {
    return new Promise((resolve) => {
        const srv = net.createServer();
        srv.listen(0, '127.0.0.1', () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

async function startCodeServer(port) {
    const child = spawn(
        CODE_SERVER,
        [
            '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', userData,
            '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check',
            '--disable-workspace-trust', '--disable-getting-started-override', ws,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PADDLEPORT_E2E: '1' } },
    );
    const out = fs.createWriteStream(path.join(root, 'code-server.log'));
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    for (let i = 0; i < 120; i++) {
        try {
            const res = await fetch(`http://127.0.0.1:${port}/healthz`);
            if (res.ok) {
                return child;
            }
        } catch {
            // not up yet
        }
        await sleep(500);
    }
    throw new Error('code-server did not start in 60 s');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- UI helpers ----------------------------------------------------------------------------------

let page;

async function waitFor(what, fn, timeout = 30000, interval = 250) {
    const end = Date.now() + timeout;
    let last;
    while (Date.now() < end) {
        try {
            last = await fn();
            if (last) {
                return last;
            }
        } catch (err) {
            last = err;
        }
        await sleep(interval);
    }
    throw new Error(`timed out after ${timeout / 1000} s waiting for ${what} (last: ${String(last).slice(0, 300)})`);
}

async function quickInput(text) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(text);
    return input;
}

/** Runs a command from the palette by its full title. */
async function command(title) {
    await quickInput(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ state: 'visible', timeout: 15000 });
    await row.click();
    await sleep(300);
}

/** Opens a workspace file from the Explorer (quick open waits for the file search). */
async function openFile(name) {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
    await row.waitFor({ state: 'visible', timeout: 30000 });
    await row.dblclick();
    await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 15000 });
    await sleep(300);
}

async function goTo(line, column) {
    await page.keyboard.press('Control+g');
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`:${line}:${column}`);
    await sleep(300);
    await page.keyboard.press('Enter');
    await sleep(300);
}

async function editorText() {
    const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
    const text = await lines.innerText();
    return text.replace(/\u00a0/g, ' ');
}

async function statusText() {
    const item = page.locator('.statusbar-item', { hasText: /torch: \d+/ }).first();
    return (await item.count()) ? (await item.innerText()).trim() : '';
}

async function toasts() {
    const items = page.locator('.notifications-toasts .notification-list-item');
    const out = [];
    for (let i = 0; i < (await items.count()); i++) {
        const item = items.nth(i);
        const error = (await item.locator('.codicon-error').count()) > 0;
        const warning = (await item.locator('.codicon-warning').count()) > 0;
        out.push({ text: (await item.innerText()).replace(/\s+/g, ' '), level: error ? 'error' : warning ? 'warning' : 'info' });
    }
    return out;
}

async function clearToasts() {
    await command('Notifications: Clear All Notifications').catch(() => undefined);
    await sleep(300);
}

async function problemsText() {
    const panel = page.locator('.markers-panel');
    if (!(await panel.isVisible().catch(() => false))) {
        await command('View: Focus Problems');
    }
    return (await page.locator('.markers-panel').innerText()).replace(/\s+/g, ' ');
}

async function shot(name) {
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

function onDisk(name) {
    return fs.readFileSync(path.join(ws, name), 'utf8');
}

async function save() {
    await page.keyboard.press('Control+s');
    await sleep(500);
}

// ---- the checks ----------------------------------------------------------------------------------

const results = [];

async function check(name, fn) {
    const t = Date.now();
    try {
        await fn();
        results.push({ name, ok: true });
        console.log(`e2e: PASS ${name} (${((Date.now() - t) / 1000).toFixed(1)} s, at ${since()})`);
    } catch (err) {
        results.push({ name, ok: false, error: String(err?.stack || err).slice(0, 3000) });
        console.log(`e2e: FAIL ${name}: ${err?.message || err}`);
        await page.screenshot({ path: path.join(SHOTS, `FAIL-${name.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
        await page.keyboard.press('Escape').catch(() => undefined);
    }
}

function expect(cond, message) {
    if (!cond) {
        throw new Error(message);
    }
}

/** The CLI's count of torch uses in `file` (its summary line; imports are not uses). */
function cliCount(file) {
    // exit code 1: torch is used (like a linter)
    const run = spawnSync(VENV_PYTHON, ['-m', 'paddleport', 'check', path.join(ws, file)], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: path.resolve('server') },
    });
    const found = /Found (\d+) torch uses?/.exec(`${run.stdout}\n${run.stderr}`);
    if (!found) {
        throw new Error(`no count in paddleport check's output: ${run.stdout} ${run.stderr}`);
    }
    return Number(found[1]);
}

function paddleportLog() {
    return logFiles()
        .filter((f) => /Paddleport\.log$/.test(f))
        .map((f) => fs.readFileSync(f, 'utf8'))
        .join('\n');
}

function logFiles() {
    const found = [];
    const walk = (dir) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                walk(p);
            } else if (entry.name.endsWith('.log')) {
                found.push(p);
            }
        }
    };
    walk(path.join(userData, 'logs'));
    return found;
}

async function main() {
    prepare();
    const port = await freePort();
    const server = await startCodeServer(port);
    console.log(`e2e: code-server up at ${since()}`);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
        const context = await browser.newContext({ viewport: { width: 1400, height: 860 } });
        page = await context.newPage();
        await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`);
        await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
        await sleep(1500);
        await run();
    } finally {
        await browser.close().catch(() => undefined);
        try {
            process.kill(-server.pid, 'SIGTERM');
        } catch {
            // gone
        }
    }
}

async function run() {
    await check('activation with the bundled server in a Python without paddleport', async () => {
        await openFile('model.py');
        await waitFor('the status bar count', async () => /torch: \d+/.test(await statusText()), 90000);
        const log = paddleportLog();
        expect(log.includes(`Interpreter: ${barePython}`), 'the server did not run in the bare venv');
        expect(log.includes('Server: bundled'), 'the server was not the bundled one');
    });

    await check('status bar count agrees with paddleport check', async () => {
        const expected = cliCount('model.py');
        await waitFor(`"torch: ${expected}"`, async () => (await statusText()).includes(`torch: ${expected}`), 10000);
    });

    await check('diagnostics in the Problems panel', async () => {
        await command('View: Focus Problems');
        const text = await waitFor('Problems rows', async () => {
            const t = await problemsText();
            return t.includes('paddle.nn.Conv2D') && t.includes('paddle.nn.Linear') ? t : '';
        });
        expect(text.includes('torch.nn.Conv2d'), 'rule id missing');
        await shot('e2e-diagnostics');
    });

    await check('a quick fix leaves runnable code', async () => {
        await openFile('quickfix.py');
        await waitFor('diagnostics on quickfix.py', async () => (await statusText()).includes('torch: '));
        await goTo(3, 7);
        await page.keyboard.press('Control+.');
        const row = page.locator('.action-widget .monaco-list-row', { hasText: 'Replace with paddle.zeros' }).first();
        await row.waitFor({ timeout: 15000 });
        await shot('e2e-quickfix');
        await row.click();
        const text = await waitFor('the fix in the editor', async () => {
            const t = await editorText();
            return t.includes('paddle.zeros(') ? t : '';
        });
        expect(/^import paddle$/m.test(text), `no "import paddle" after the quick fix:\n${text}`);
        const file = path.join(root, 'quickfix_after.py');
        fs.writeFileSync(file, text);
        const out = execFileSync(VENV_PYTHON, [file], { cwd: root, encoding: 'utf8', env: { ...process.env, GLOG_minloglevel: '2' } });
        expect(out.includes('(2, 3)'), `the fixed file printed ${out}`);
    });

    await check('fix-all on save, and what it leaves behind is offered to Convert File', async () => {
        await clearToasts();
        await openFile('onsave.py');
        await waitFor('diagnostics on onsave.py', async () => (await statusText()).includes('torch: '));
        await goTo(6, 1);
        await page.keyboard.type('# saved\n');
        await save();
        const text = await waitFor('the saved file converted', async () => {
            const t = onDisk('onsave.py');
            return t.includes('paddle.zeros(') ? t : '';
        });
        expect(text.includes('nn.BatchNorm2d(4, momentum=0.2)'), 'fix-all on save changed a review-tier use');
        const offered = await waitFor('the notification offering Convert File', async () =>
            (await toasts()).find((t) => /still uses torch/i.test(t.text) && t.text.includes('Convert File')),
        );
        expect(offered.level !== 'error', 'the offer is shown as an error');
        await waitFor('the status bar naming what is left', async () => /torch: [1-9]/.test(await statusText()));
        expect((await page.locator('.statusbar-item', { hasText: /torch: \d+/ }).locator('.codicon-warning').count()) > 0,
            'no warning icon in the status bar');
        await sleep(1000); // let the notification finish sliding in
        await shot('e2e-fix-on-save');
        await clearToasts();
    });

    await check('Convert File in a .py file', async () => {
        await openFile('model.py');
        await command('Paddleport: Convert File');
        const text = await waitFor('the converted file', async () => {
            const t = await editorText();
            return t.includes('paddle.nn.Conv2D') ? t : '';
        });
        expect(!/^import torch/m.test(text), `import torch left:\n${text}`);
        await waitFor('the status bar at 0', async () => (await statusText()).includes('torch: 0'));
    });

    await check('Show Rule lists the rules reported in the file', async () => {
        await openFile('closeme.py');
        await waitFor('diagnostics on closeme.py', async () => (await statusText()).includes('torch: '));
        await command('Paddleport: Show Rule');
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'torch.ones' }).first();
        await row.waitFor({ timeout: 15000 });
        await page.keyboard.type('torch.ones');
        await sleep(300);
        await page.keyboard.press('Enter');
        await page.locator('.tab', { hasText: 'torch.ones' }).first().waitFor({ timeout: 20000 });
        await shot('e2e-show-rule');
    });

    await check('close without saving raises no error', async () => {
        await clearToasts();
        await openFile('closeme.py');
        await goTo(3, 1);
        await page.keyboard.type('z = 1\n');
        await sleep(500);
        await command('View: Close Editor');
        const dontSave = page.locator('.monaco-dialog-box a.monaco-button, .monaco-dialog-box button', { hasText: "Don't Save" }).first();
        await dontSave.waitFor({ timeout: 10000 });
        await dontSave.click();
        await sleep(2500);
        const bad = (await toasts()).filter((t) => t.level === 'error' || /Error in server|KeyError/.test(t.text));
        expect(bad.length === 0, `error notifications: ${JSON.stringify(bad)}`);
    });

    await check('Convert File in a notebook', async () => {
        await openFile('nb.ipynb');
        await page.locator('.notebook-editor').first().waitFor({ timeout: 30000 });
        await waitFor('diagnostics in the notebook', async () => (await problemsText()).includes('torch.zeros'), 60000);
        await page.locator('.notebook-editor .cell-editor-container').first().click();
        await command('Paddleport: Convert File');
        await waitFor('converted cells', async () =>
            (await page.locator('.notebook-editor .view-lines').allInnerTexts()).join('\n').replace(/\u00a0/g, ' ').includes('paddle.zeros'),
        );
        await waitFor('the status bar at 0 in the notebook', async () => (await statusText()).includes('torch: 0'));
        await shot('e2e-notebook');
        await save();
        await waitFor('the converted notebook on disk', async () => onDisk('nb.ipynb').includes('paddle.zeros'));
    });

    // The equivalence check needs jupyter_client and a kernel with torch + paddle: switch the
    // interpreter to the project's venv (the extension restarts its server on the change).
    // A workspace setting (the folder is watched; an outside write to the user settings is not seen).
    const before = paddleportLog().split('restarting the server').length;
    fs.mkdirSync(path.join(ws, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify({ 'paddleport.interpreter': [VENV_PYTHON] }));
    await waitFor('the server restarted with the venv Python', async () => {
        const log = paddleportLog();
        const tail = log.split('restarting the server').slice(before).join('');
        return log.split('restarting the server').length > before && tail.includes(VENV_PYTHON);
    }, 60000).catch((err) => console.log(`e2e: ${err.message}`));
    await sleep(2000);

    await check('Check Equivalence: pass and mismatch shown distinctly', async () => {
        await clearToasts();
        await openFile('equiv.py');
        await waitFor('the restarted server', async () => (await statusText()).includes('torch: '), 60000);
        await goTo(7, 5);
        await command('Paddleport: Check Equivalence');
        const pass = await waitFor('the pass notification', async () => (await toasts()).find((t) => /act.*equal/i.test(t.text)), 120000);
        expect(pass.level === 'info', `a pass shown as ${pass.level}`);
        expect(pass.text.includes('Show details'), 'no Show details action on the pass');
        await goTo(12, 5);
        await command('Paddleport: Check Equivalence');
        const fail = await waitFor('the mismatch notification', async () => (await toasts()).find((t) => /noisy/.test(t.text) && t.level !== 'info'), 120000);
        expect(fail.level === 'warning', `a mismatch shown as ${fail.level}`);
        expect(fail.text.includes('Show details'), 'no Show details action on the mismatch');
        await command('View: Focus Problems');
        await sleep(500);
        const problems = await problemsText();
        expect(/Equivalence[^.]*act/.test(problems) && /Equivalence[^.]*noisy/.test(problems), `Problems: ${problems}`);
        await shot('e2e-equivalence');
        await clearToasts();
        await goTo(18, 5);
        await command('Paddleport: Check Equivalence');
        const error = await waitFor('the could-not-check notification', async () => (await toasts()).find((t) => /could not check Head/.test(t.text)), 60000);
        expect(error.level === 'error', `a check that could not run shown as ${error.level}`);
        expect(error.text.includes('# paddleport: example Head(16)(randn(2, 16))'), `no example to write: ${error.text}`);
    });

    await check('the example the hint proposes is one quick fix away, and then the check passes', async () => {
        await clearToasts();
        await goTo(15, 3);
        await page.keyboard.press('Control+.');
        const row = page.locator('.action-widget .monaco-list-row', { hasText: 'add the example comment' }).first();
        await row.waitFor({ timeout: 15000 });
        await row.click();
        await waitFor('the comment in the editor', async () => (await editorText()).includes('# paddleport: example Head(16)(randn(2, 16))'));
        await goTo(19, 5);
        await command('Paddleport: Check Equivalence');
        const pass = await waitFor('the pass notification', async () => (await toasts()).find((t) => /Head is equivalent/.test(t.text)), 60000);
        expect(pass.level === 'info', `shown as ${pass.level}`);
    });

    await check('no error-level line in the output channel or the extension host log', async () => {
        const bad = [];
        for (const file of logFiles()) {
            // The Paddleport output channel and the extension host's own log (every extension's
            // errors, e.g. "Channel has been closed"); other extensions' channels are theirs.
            const rel = path.relative(userData, file);
            if (!/paddleport/i.test(rel) && !/(^|\/)(remote)?exthost\.log$/i.test(rel)) {
                continue;
            }
            for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
                if (/\[error\]/i.test(line)) {
                    bad.push(`${rel}: ${line}`);
                }
            }
        }
        expect(bad.length === 0, `error lines:\n${bad.join('\n')}`);
    });
}

try {
    await main();
} catch (err) {
    results.push({ name: 'setup', ok: false, error: String(err?.stack || err).slice(0, 3000) });
    console.log(`e2e: FAIL setup: ${String(err?.message || err).slice(0, 3000)}`);
}
const failed = results.filter((r) => !r.ok);
console.log(`\ne2e: ${results.length - failed.length} passed, ${failed.length} failed in ${since()} (screenshots: ${SHOTS})`);
for (const f of failed) {
    console.log(`--- ${f.name}\n${f.error}`);
}
if (failed.length || KEEP) {
    console.log(`e2e: workspace, settings and logs kept in ${root}`);
} else {
    fs.rmSync(root, { recursive: true, force: true });
}
process.exit(failed.length ? 1 : 0);
