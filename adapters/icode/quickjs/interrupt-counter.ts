// QuickJS counts down `JSContext.interrupt_counter` at every function call and loop back-edge and
// calls the runtime's interrupt handler when it reaches zero, after resetting it to 10,000. The count
// of those poll points is a pure function of the program, so it is our gas. Left alone, though, the
// counter carries over from one call to the next, so "handler calls" would depend on what ran before.
// We therefore read and write the counter itself, in the instance's linear memory: set it before a
// call, read it after, and the difference is the exact step count of that call on every node.
//
// The field's offset inside the C struct is a property of the pinned WASM build. It is found once
// by watching which word of the struct moves by the same amount each time the same loop runs, and
// then checked by behaviour (a written value must make the handler fire exactly then); if the build
// ever changes so that this fails, creating a sandbox fails loudly instead of metering wrongly. The
// search runs in a WASM instance of its own, so no sandbox's heap history depends on whether it was
// the first one of the process.

import type { QuickJSContext, QuickJSWASMModule } from 'quickjs-emscripten';
import { MIN_MEMORY_BYTES, newQuickJsInstance, type WasmMemory } from './wasm.ts';

/** The value QuickJS writes into the counter when it reaches zero, before it calls the handler. */
export const COUNTER_RESET = 10_000;
const SCAN_WORDS = 256;

export class InterruptCounter {
  private words: Int32Array;

  constructor(
    private readonly memory: WasmMemory,
    private readonly index: number,
  ) {
    this.words = new Int32Array(memory.buffer);
  }

  read(): number {
    return this.view()[this.index]!;
  }

  write(value: number): void {
    this.view()[this.index] = value;
  }

  private view(): Int32Array {
    // Growing the memory detaches the old buffer.
    if (this.words.buffer !== this.memory.buffer) this.words = new Int32Array(this.memory.buffer);
    return this.words;
  }
}

function contextPointer(context: QuickJSContext): number {
  // quickjs-emscripten keeps the JSContext* in a protected field; it is the one thing we need from it.
  const lifetime: unknown = Reflect.get(context, 'ctx');
  const pointer: unknown =
    typeof lifetime === 'object' && lifetime !== null ? Reflect.get(lifetime, 'value') : undefined;
  if (typeof pointer !== 'number' || !Number.isInteger(pointer) || pointer <= 0 || pointer % 4 !== 0) {
    throw new Error('cannot find the QuickJS context pointer: quickjs-emscripten changed');
  }
  return pointer;
}

function run(context: QuickJSContext, code: string): void {
  const result = context.evalCode(code);
  if (result.error) {
    result.error.dispose();
    return;
  }
  result.value.dispose();
}

let knownOffset: Promise<number> | undefined;

function snapshot(memory: WasmMemory, base: number): Int32Array {
  return new Int32Array(memory.buffer, base, SCAN_WORDS).slice();
}

function findOffset(module: QuickJSWASMModule, memory: WasmMemory): number {
  const runtime = module.newRuntime();
  const context = runtime.newContext();
  try {
    runtime.setInterruptHandler(() => false);
    const base = contextPointer(context);
    const loop = 'for (let i = 0; i < 100; i++) {}';
    run(context, loop); // the first poll of a new context fires the handler and resets the counter
    const a = snapshot(memory, base);
    run(context, loop);
    const b = snapshot(memory, base);
    run(context, loop);
    const c = snapshot(memory, base);
    const found: number[] = [];
    for (let i = 0; i < SCAN_WORDS; i++) {
      const step = a[i]! - b[i]!;
      if (step > 0 && step === b[i]! - c[i]! && c[i]! > 0 && a[i]! <= COUNTER_RESET) found.push(i * 4);
    }
    if (found.length !== 1)
      throw new Error(`found ${found.length} candidates for QuickJS's interrupt counter`);
    return found[0]!;
  } finally {
    context.dispose();
    runtime.dispose();
  }
}

/** Checks by behaviour that the word is the counter: a small written value makes the handler fire. */
function verify(module: QuickJSWASMModule, memory: WasmMemory, offset: number): void {
  const runtime = module.newRuntime();
  const context = runtime.newContext();
  try {
    let handlerCalls = 0;
    const calls = (): number => handlerCalls;
    runtime.setInterruptHandler(() => ++handlerCalls > 0);
    const counter = new InterruptCounter(memory, (contextPointer(context) + offset) / 4);
    counter.write(1_000_000);
    run(context, 'for (let i = 0; i < 100; i++) {}');
    const used = 1_000_000 - counter.read();
    if (calls() !== 0 || used <= 0 || used > 1000) throw new Error('the counter did not count a loop');
    counter.write(used * 3);
    run(context, 'for (;;) {}');
    if (calls() !== 1 || counter.read() !== COUNTER_RESET)
      throw new Error('a written count did not fire the handler');
  } finally {
    context.dispose();
    runtime.dispose();
  }
}

/** Where the counter is inside a JSContext, found and verified once per process. */
export function interruptCounterOffset(): Promise<number> {
  knownOffset ??= newQuickJsInstance(MIN_MEMORY_BYTES).then(({ module }) => {
    const memory = module.getWasmMemory();
    const offset = findOffset(module, memory);
    verify(module, memory, offset);
    return offset;
  });
  return knownOffset;
}

/** The interrupt counter of `context` (offset from interruptCounterOffset). */
export function interruptCounterOf(
  module: QuickJSWASMModule,
  context: QuickJSContext,
  offset: number,
): InterruptCounter {
  return new InterruptCounter(module.getWasmMemory(), (contextPointer(context) + offset) / 4);
}
