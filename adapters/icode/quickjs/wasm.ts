// The QuickJS WebAssembly module, compiled once per process, and instances of it that each own a
// private linear memory with a hard maximum. A sandbox gets an instance of its own, so its memory
// limit is real (QuickJS's own malloc limit only counts 8 bytes per allocation in this build, so a
// loop of 10 KB strings sails past it) and its heap history is only what ran in it.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSWASMModule,
  RELEASE_SYNC,
} from 'quickjs-emscripten';

/** The parts of the WebAssembly global we use (Node has it; the ES2023 lib has no types for it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
  compile(bytes: Uint8Array): Promise<object>;
}
const wasmApi: WasmApi = Reflect.get(globalThis, 'WebAssembly');

const PAGE_BYTES = 64 * 1024;
/** The module declares 256 pages (16 MiB) as its smallest memory. */
export const MIN_MEMORY_BYTES = 256 * PAGE_BYTES;

let compiled: Promise<object> | undefined;

function wasmPath(): string {
  // Resolved from quickjs-emscripten's own location: the variant package is its dependency, not ours.
  const fromQuickjs = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
  return fromQuickjs.resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
}

function compiledModule(): Promise<object> {
  compiled ??= readFile(wasmPath()).then((bytes) => wasmApi.compile(bytes));
  return compiled;
}

/** The largest memory an instance made for memoryBytes can have: whole pages, at least the minimum. */
export function memoryCeiling(memoryBytes: number): number {
  return Math.floor(Math.max(MIN_MEMORY_BYTES, memoryBytes) / PAGE_BYTES) * PAGE_BYTES;
}

export interface QuickJsInstance {
  module: QuickJSWASMModule;
  /**
   * How many times the heap asked for more memory and was refused (it was at its ceiling). A call
   * during which this rises ran out of memory, even if the iCode caught the error or QuickJS
   * swallowed it (it does, when a promise job cannot be queued).
   */
  refusedGrowths(): number;
}

/** A fresh QuickJS instance whose memory can never grow past memoryCeiling(memoryBytes). */
export async function newQuickJsInstance(memoryBytes: number): Promise<QuickJsInstance> {
  const maximum = memoryCeiling(memoryBytes) / PAGE_BYTES;
  const memory = new wasmApi.Memory({ initial: MIN_MEMORY_BYTES / PAGE_BYTES, maximum });
  let refused = 0;
  // The heap grows through emscripten's JS glue, which calls memory.grow and treats an exception as
  // "no more memory"; an own property in front of the prototype's method lets us count those.
  const grow = memory.grow;
  Object.defineProperty(memory, 'grow', {
    value(pages: number): number {
      try {
        return grow.call(memory, pages);
      } catch (e) {
        refused++;
        throw e;
      }
    },
  });
  const wasmModule = await compiledModule();
  // Quiet: QuickJS's own assertion messages (printed when an instance that ran out of memory is
  // freed) mean nothing to a node operator; the instance is simply dropped.
  const emscriptenModule = { print: () => {}, printErr: () => {}, monitorRunDependencies: () => {} };
  const module = await newQuickJSWASMModuleFromVariant(
    newVariant(RELEASE_SYNC, { wasmModule, wasmMemory: memory, emscriptenModule }),
  );
  return { module, refusedGrowths: () => refused };
}
