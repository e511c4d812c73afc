// A minimal ustar writer, enough to hand `docker import` a root file system: directories and regular
// files, owned by root, with a fixed mtime so the same inputs give the same archive. Streams file
// contents (the node binary is ~100 MB) instead of holding them in memory.

import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export type TarEntry =
  | { kind: 'dir'; path: string; mode: number }
  | { kind: 'file'; path: string; mode: number; size: number; source: string | Buffer };

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar expects.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a '/'. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  throw new Error(`path too long for a tar header: ${path}`);
}

function header(entry: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  const path = entry.kind === 'dir' ? `${entry.path.replace(/\/$/, '')}/` : entry.path;
  const { prefix, name } = splitPath(path.replace(/^\//, ''));
  h.write(name, 0, 100, 'utf8');
  h.write(octal(entry.mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(entry.kind === 'file' ? entry.size : 0, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii'); // mtime
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder: spaces while summing
  h.write(entry.kind === 'dir' ? '5' : '0', 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

async function* chunks(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield header(entry);
    if (entry.kind !== 'file') continue;
    let written = 0;
    if (Buffer.isBuffer(entry.source)) {
      written = entry.source.length;
      yield entry.source;
    } else {
      for await (const chunk of createReadStream(entry.source)) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
    }
    if (written !== entry.size) throw new Error(`${entry.path} changed size while being archived`);
    const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (pad > 0) yield Buffer.alloc(pad, 0);
  }
  yield Buffer.alloc(2 * BLOCK, 0); // end of archive
}

export function tarStream(entries: readonly TarEntry[]): Readable {
  return Readable.from(chunks(entries), { objectMode: false });
}
