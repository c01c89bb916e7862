#!/usr/bin/env node
// Checks a built .vsix (a zip): it must hold the bundle, the manifest and the
// readme, and nothing from node_modules. A small zip reader (central
// directory + zlib) so no unzip binary is needed.
//
//   node vscode-client/scripts/check-vsix.mjs paddleport.vsix
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Lists the entries of a zip file: name, compression method, sizes, data offset. */
export function listZip(buffer) {
    let eocd = -1;
    for (let i = buffer.length - 22; i >= Math.max(0, buffer.length - 22 - 0xffff); i--) {
        if (buffer.readUInt32LE(i) === EOCD) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) {
        throw new Error('not a zip file (no end of central directory)');
    }
    const count = buffer.readUInt16LE(eocd + 10);
    let offset = buffer.readUInt32LE(eocd + 16);
    const entries = [];
    for (let i = 0; i < count; i++) {
        if (buffer.readUInt32LE(offset) !== CENTRAL) {
            throw new Error(`bad central directory entry at ${offset}`);
        }
        const method = buffer.readUInt16LE(offset + 10);
        const compressedSize = buffer.readUInt32LE(offset + 20);
        const size = buffer.readUInt32LE(offset + 24);
        const nameLength = buffer.readUInt16LE(offset + 28);
        const extraLength = buffer.readUInt16LE(offset + 30);
        const commentLength = buffer.readUInt16LE(offset + 32);
        const localOffset = buffer.readUInt32LE(offset + 42);
        const name = buffer.toString('utf8', offset + 46, offset + 46 + nameLength);
        entries.push({ name, method, compressedSize, size, localOffset });
        offset += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}

/** The uncompressed bytes of one entry (stored or deflated). */
export function readEntry(buffer, entry) {
    const at = entry.localOffset;
    if (buffer.readUInt32LE(at) !== LOCAL) {
        throw new Error(`bad local header for ${entry.name}`);
    }
    const start = at + 30 + buffer.readUInt16LE(at + 26) + buffer.readUInt16LE(at + 28);
    const data = buffer.subarray(start, start + entry.compressedSize);
    if (entry.method === 0) {
        return data;
    }
    if (entry.method === 8) {
        return inflateRawSync(data);
    }
    throw new Error(`unsupported compression method ${entry.method} for ${entry.name}`);
}

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
    }

    for (const entry of entries) {
        console.log(`${String(entry.size).padStart(9)}  ${entry.name}`);
    }
    if (problems.length > 0) {
        console.error(`check-vsix: ${path} FAILED:\n  ${problems.join('\n  ')}`);
        process.exit(1);
    }
    console.log(`check-vsix: ${path} OK (${entries.length} entries, bundle present, no node_modules)`);
}

main();
