// A small zip reader (central directory + zlib), so no unzip binary is needed:
// used by check-vsix.mjs and the test that unpacks the .vsix.
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
