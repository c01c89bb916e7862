#!/usr/bin/env node
// Checks a built .vsix (a zip): it must hold the bundle, the manifest, the
// readme, the icon and the bundled Python server (paddleport with its rules,
// libcst's compiled parser, pygls), and nothing from node_modules or
// __pycache__. The zip reader is zip.mjs.
//
//   node vscode-client/scripts/check-vsix.mjs paddleport.vsix
import { readFileSync } from 'node:fs';
import { listZip, readEntry } from './zip.mjs';

function main() {
    const path = process.argv[2] ?? 'paddleport.vsix';
    const buffer = readFileSync(path);
    const entries = listZip(buffer);
    const names = entries.map((entry) => entry.name);
    const problems = [];

    for (const required of ['extension.vsixmanifest', 'extension/package.json', 'extension/dist/extension.js', 'extension/readme.md']) {
        if (!names.includes(required)) {
            problems.push(`missing ${required}`);
        }
    }
    const bundled = [
        'extension/bundled/manifest.json',
        'extension/bundled/libs/paddleport/__init__.py',
        'extension/bundled/libs/paddleport/lsp/server.py',
        'extension/bundled/libs/pygls/__init__.py',
        'extension/bundled/libs/lsprotocol/types.py',
        'extension/bundled/libs/jedi/__init__.py',
        'extension/vscode-client/images/icon.png',
    ];
    for (const required of bundled) {
        if (!names.includes(required)) {
            problems.push(`missing ${required}`);
        }
    }
    const rules = names.filter((name) => /^extension\/bundled\/libs\/paddleport\/ruledata\/[^/]+\.toml$/.test(name));
    if (rules.length === 0) {
        problems.push('no rules in extension/bundled/libs/paddleport/ruledata/');
    }
    const native = names.filter((name) => /^extension\/bundled\/libs\/libcst\/native\.[^/]*(\.so|\.pyd)$/.test(name));
    if (native.length === 0) {
        problems.push("no compiled libcst parser (extension/bundled/libs/libcst/native.*.so|.pyd)");
    }
    const caches = names.filter((name) => name.split('/').includes('__pycache__'));
    if (caches.length > 0) {
        problems.push(`${caches.length} __pycache__ entries, e.g. ${caches[0]}`);
    }
    const fromNodeModules = names.filter((name) => name.split('/').includes('node_modules'));
    if (fromNodeModules.length > 0) {
        problems.push(`${fromNodeModules.length} node_modules entries, e.g. ${fromNodeModules[0]}`);
    }
    const bundle = entries.find((entry) => entry.name === 'extension/dist/extension.js');
    if (bundle) {
        const code = readEntry(buffer, bundle).toString('utf8');
        if (!code.includes('paddleport/status') || /require\(["']vscode-languageclient/.test(code)) {
            problems.push('extension/dist/extension.js is not the bundled extension');
        }
    }
    const manifestEntry = entries.find((entry) => entry.name === 'extension/package.json');
    if (manifestEntry) {
        const manifest = JSON.parse(readEntry(buffer, manifestEntry).toString('utf8'));
        if (manifest.main !== './dist/extension.js') {
            problems.push(`package.json main is ${manifest.main}`);
        }
        if (manifest.icon !== 'vscode-client/images/icon.png') {
            problems.push(`package.json icon is ${manifest.icon}`);
        }
    }

    for (const entry of entries.filter((e) => !e.name.startsWith('extension/bundled/libs/'))) {
        console.log(`${String(entry.size).padStart(9)}  ${entry.name}`);
    }
    const libs = entries.filter((e) => e.name.startsWith('extension/bundled/libs/'));
    const unpacked = libs.reduce((sum, e) => sum + e.size, 0);
    console.log(`${String(unpacked).padStart(9)}  extension/bundled/libs/ (${libs.length} files, ${rules.length} rule files, ${native.map((n) => n.split('/').pop()).join(', ')})`);
    if (problems.length > 0) {
        console.error(`check-vsix: ${path} FAILED:\n  ${problems.join('\n  ')}`);
        process.exit(1);
    }
    const mb = (buffer.length / 1e6).toFixed(1);
    console.log(`check-vsix: ${path} OK (${mb} MB, ${entries.length} entries, bundled server present, no node_modules)`);
}

main();
