#!/usr/bin/env node
// Builds the platform-specific .vsix: bundles the Python server into bundled/
// (vscode-client/scripts/bundle_server.py, run by the repository's .venv
// Python, or $PADDLEPORT_PYTHON, else python3), then runs
// `vsce package --target <the bundle's target>`.
//
//   node vscode-client/scripts/package.mjs [-o paddleport.vsix] [--no-bundle]
// --no-bundle packages an existing bundled/ (e.g. one built for another target
// with bundle_server.py --platform ... --target ...).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ALSO_PYTHON = ['3.11', '3.12', '3.13', '3.14'];
const args = process.argv.slice(2);
const outIndex = args.indexOf('-o');
const out = outIndex >= 0 ? args[outIndex + 1] : 'paddleport.vsix';

function python() {
    if (process.env.PADDLEPORT_PYTHON) {
        return process.env.PADDLEPORT_PYTHON;
    }
    const venv = process.platform === 'win32' ? join('.venv', 'Scripts', 'python.exe') : join('.venv', 'bin', 'python');
    return existsSync(venv) ? venv : 'python3';
}

if (!args.includes('--no-bundle')) {
    // The venv's Python version, plus libcst's compiled parser for the other CPython versions
    // paddleport supports (fetched by pip; a version it cannot fetch is left out with a warning).
    execFileSync(python(), ['vscode-client/scripts/bundle_server.py', '--also-python', ...ALSO_PYTHON], { stdio: 'inherit' });
}
const manifest = JSON.parse(readFileSync(join('bundled', 'manifest.json'), 'utf8'));
// vsce's secret scan (secretlint, file by file) takes many minutes over the ~6000
// files of bundled/libs (mostly jedi's typeshed stubs, from PyPI wheels): it is
// skipped. .vscodeignore is an allow-list, so no .env or key file of the
// checkout can enter the package.
const vsce = join('node_modules', '.bin', process.platform === 'win32' ? 'vsce.cmd' : 'vsce');
execFileSync(
    vsce,
    ['package', '--no-dependencies', '--allow-package-all-secrets', '--allow-package-env-file', '--target', manifest.target, '--readme-path', 'vscode-client/README.md', '-o', out],
    { stdio: 'inherit', shell: process.platform === 'win32' },
);
