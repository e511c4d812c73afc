// The container side of the Docker iCode runtime: `node runner.cjs` is the container's process.
// It talks to the host over stdin/stdout, one JSON object per line:
//   host → runner: {t:'load', prelude, factory, maxResultChars, maxLogChars}  once, first line
//                  {t:'call', id, sandbox, request}                      request: what the prelude's invoke takes
//                  {t:'reply', v} | {t:'reply', err, name}               answer to a get/range
//   runner → host: {t:'ready'} | {t:'broken', message}                   after load
//                  {t:'get', k}, {t:'range', q}                          wait for a reply (fs.readSync)
//                  {t:'put', k, v}, {t:'del', k}, {t:'log', level, msg}  no reply: the host records them
//                  {t:'done', id, out} | {t:'done', id, pending: true}   out = 'R' + JSON | 'E' + error
// A state operation's argument travels as {s: string} or {type: typeof} so the host applies exactly
// the checks (and error messages) it applies to a QuickJS guest.
//
// The iCode runs in a node:vm context hardened by the same prelude as the QuickJS sandbox (passed in
// by the host), so the SDK seen by the iCode is the same. The container, not the vm, is the security
// boundary (no network, read-only root, no capabilities); the vm gives the iCode a bare ES realm with
// no require/process/timers, and the bridge into it passes strings only, so no object of this realm
// (from which `constructor.constructor` would reach `process`) is ever handed to the iCode.
'use strict';

const fs = require('node:fs');
const vm = require('node:vm');

// ---- blocking line I/O on fd 0 / fd 1 ------------------------------------------------------------

const chunk = Buffer.alloc(1 << 16);
let partial = []; // bytes read after the last newline, not decoded yet (a UTF-8 character may be split)
let lines = [];
const nap = new Int32Array(new SharedArrayBuffer(4));

function readLine() {
  while (lines.length === 0) {
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(nap, 0, 0, 1);
      continue;
    }
    if (n === 0) process.exit(0); // the host went away: stdin is closed
    const bytes = Buffer.from(chunk.subarray(0, n));
    const last = bytes.lastIndexOf(10);
    if (last < 0) {
      partial.push(bytes);
      continue;
    }
    const text = Buffer.concat([...partial, bytes.subarray(0, last)]).toString('utf8');
    partial = last + 1 < n ? [bytes.subarray(last + 1)] : [];
    lines = text.split('\n');
  }
  return lines.shift();
}

function send(message) {
  const data = Buffer.from(`${JSON.stringify(message)}\n`, 'utf8');
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(1, data, off, data.length - off);
    } catch (e) {
      if (e.code !== 'EAGAIN') throw e;
      Atomics.wait(nap, 0, 0, 1);
    }
  }
}

function receive() {
  return JSON.parse(readLine());
}

// ---- the bridge: what the iCode's ctx.get/put/del/range/console reach ----------------------------

/** Runs in the iCode's realm, so that everything the iCode can touch belongs to that realm. */
const WRAP_BRIDGE = `(function (bridge) {
  'use strict';
  const kind = (v) => typeof v;
  const parse = JSON.parse;
  const HostError = Error;
  const defineProperty = Object.defineProperty;
  function rethrow(answer) {
    // answer: 'N' null, 'V' + text, 'O' done, 'X' + JSON {name, message}
    if (answer[0] !== 'X') return answer;
    const info = parse(answer.slice(1));
    const e = new HostError(info.message);
    // Not \`e.name = …\`: Error.prototype is frozen by then, and its read-only name would refuse it.
    if (info.name !== 'Error') defineProperty(e, 'name', { value: info.name, writable: true, configurable: true });
    throw e;
  }
  const value = (answer) => (answer === 'N' ? null : answer.slice(1));
  return [
    function get(key) { return value(rethrow(bridge('get', kind(key), typeof key === 'string' ? key : ''))); },
    function put(key, json) {
      rethrow(bridge('put', kind(key), typeof key === 'string' ? key : '', kind(json), typeof json === 'string' ? json : ''));
    },
    function del(key) { rethrow(bridge('del', kind(key), typeof key === 'string' ? key : '')); },
    function range(json) { return value(rethrow(bridge('range', kind(json), typeof json === 'string' ? json : ''))); },
    function log(level, message) {
      rethrow(bridge('log', kind(level), typeof level === 'string' ? level : '', kind(message), typeof message === 'string' ? message : ''));
    },
  ];
})`;

/** Built-ins QuickJS does not have, or that hold state across calls: removed before the prelude. */
const HIDE_BUILTINS = `(function () {
  'use strict';
  const g = globalThis;
  for (const name of ['Atomics', 'Intl', 'WebAssembly', 'console']) delete g[name];
  for (const name of ['input', '$_', 'lastMatch', '$&', 'lastParen', '$+', 'leftContext', '$\`', 'rightContext', "$'",
    '$1', '$2', '$3', '$4', '$5', '$6', '$7', '$8', '$9']) delete RegExp[name];
  // A contextified global cannot be frozen in node:vm ("Cannot freeze"): the prelude's freeze of
  // globalThis is a no-op here, and the runner's sandbox object rejects every change instead.
  const O = Object;
  const realFreeze = O.freeze;
  const freeze = { freeze(o) { return o === g ? o : realFreeze(o); } }.freeze;
  O.defineProperty(O, 'freeze', { value: freeze, writable: true, enumerable: false, configurable: true });
})`;

const COUNT_GLOBALS = new vm.Script('Reflect.ownKeys(globalThis).length');

let load; // {prelude: vm.Script, factory: vm.Script, maxResultChars, maxLogChars}
let call; // the call running now
const typeOf = (kind, text) => (kind === 'string' ? { s: text } : { type: kind });

function bridge(op, kind1, text1, kind2, text2) {
  if (call === undefined)
    return `X${JSON.stringify({ name: 'Error', message: `${op} can only be used while a function of the iCode runs` })}`;
  switch (op) {
    case 'get':
      send({ t: 'get', k: typeOf(kind1, text1) });
      return answer();
    case 'range':
      send({ t: 'range', q: typeOf(kind1, text1) });
      return answer();
    case 'put':
      send({ t: 'put', k: typeOf(kind1, text1), v: typeOf(kind2, text2) });
      return 'O';
    case 'del':
      send({ t: 'del', k: typeOf(kind1, text1) });
      return 'O';
    case 'log':
      // The host keeps only maxLogChars of a line (and charges for those): no need to send more.
      send({ t: 'log', level: typeOf(kind1, text1), msg: typeOf(kind2, text2.slice(0, load.maxLogChars)) });
      return 'O';
    default:
      return `X${JSON.stringify({ name: 'Error', message: `unknown host function ${op}` })}`;
  }
}

function answer() {
  const reply = receive();
  if (reply.t !== 'reply') throw new Error(`expected a reply, got ${reply.t}`);
  if (typeof reply.err === 'string')
    return `X${JSON.stringify({ name: reply.name ?? 'Error', message: reply.err })}`;
  return reply.v === null ? 'N' : `V${reply.v}`;
}

/**
 * Waits for a promise the iCode returned, with callbacks of the iCode's realm: a function of this
 * realm handed to the iCode's code (a Promise subclass's `then`) would lead it to `process`.
 */
const WATCH = `(function () {
  'use strict';
  const then = Promise.prototype.then;
  let box;
  return [
    function watch(p) {
      box = undefined;
      then.call(p, (v) => { box = typeof v === 'string' ? v : ''; }, () => { box = ''; });
    },
    function read() { return box; },
  ];
})`;

// ---- sandboxes -----------------------------------------------------------------------------------

/**
 * The object behind the context's global. Once the realm is hardened, any attempt to add, change or
 * delete a global throws a TypeError of the iCode's own realm (as a frozen global does in QuickJS).
 */
function globalGuard() {
  const guard = { locked: false, TypeError: undefined };
  const refuse = (what, key) => {
    throw new guard.TypeError(
      what === 'delete' ? `cannot delete global ${String(key)}` : 'object is not extensible',
    );
  };
  const target = {};
  const object = new Proxy(target, {
    set: (t, k, v, r) => (guard.locked ? refuse('add', k) : Reflect.set(t, k, v, r)),
    defineProperty: (t, k, d) => (guard.locked ? refuse('define', k) : Reflect.defineProperty(t, k, d)),
    deleteProperty: (t, k) => (guard.locked ? refuse('delete', k) : Reflect.deleteProperty(t, k)),
  });
  return { guard, object };
}

class Sandbox {
  constructor(id) {
    this.id = id;
    const { guard, object } = globalGuard();
    this.context = vm.createContext(object, {
      name: 'icode',
      codeGeneration: { strings: false, wasm: false },
    });
    guard.TypeError = vm.runInContext('TypeError', this.context);
    vm.runInContext(HIDE_BUILTINS, this.context)();
    const host = vm.runInContext(WRAP_BRIDGE, this.context)(bridge);
    const [watch, read] = vm.runInContext(WATCH, this.context)();
    this.watch = watch;
    this.read = read;
    const hardened = load.prelude.runInContext(this.context);
    this.api = hardened(host[0], host[1], host[2], host[3], host[4], load.maxResultChars);
    this.api.install(load.factory.runInContext(this.context));
    guard.locked = true;
    this.globals = this.globalCount();
  }

  globalCount() {
    return COUNT_GLOBALS.runInContext(this.context);
  }

  /** True when the call left something in the realm that a later call could see. */
  dirty() {
    return this.globalCount() !== this.globals;
  }
}

const sandboxes = new Map(); // 'block' | 'query' → Sandbox
const slotOf = (id) => (id.startsWith('q') ? 'query' : 'block');

function sandboxFor(id) {
  const current = sandboxes.get(slotOf(id));
  if (current && current.id === id) return current;
  const fresh = new Sandbox(id);
  sandboxes.set(slotOf(id), fresh);
  return fresh;
}

const failure = (code, message) => `E${JSON.stringify({ code, message })}`;

function escaped(e) {
  let message = '';
  try {
    message = String(e?.message);
  } catch {
    // a getter that throws: nothing to show
  }
  if (message === 'Maximum call stack size exceeded') return failure('stack-overflow', 'stack overflow');
  return failure('icode-error', message || 'the call failed');
}

function finish(sandbox, id, out) {
  call = undefined;
  if (sandbox.dirty()) sandboxes.delete(slotOf(sandbox.id));
  send(out === undefined ? { t: 'done', id, pending: true } : { t: 'done', id, out });
}

// Like QuickJS's host, which runs every pending job after the call, the runner lets the microtask
// queue drain before it answers: a promise the function returned has settled, and promise jobs the
// function left behind have run (and made their state calls) as part of this call. The queue is empty
// when a macrotask (setImmediate) runs, as an iCode has no timers or I/O that could add to it later.
function step() {
  const message = receive();
  if (message.t !== 'call') throw new Error(`expected a call, got ${message.t}`);
  let sandbox;
  try {
    sandbox = sandboxFor(message.sandbox);
  } catch (e) {
    send({ t: 'done', id: message.id, out: failure('bad-code', String(e?.message)) });
    setImmediate(step);
    return;
  }
  call = message;
  let out;
  try {
    out = sandbox.api.invoke(message.request);
  } catch (e) {
    // Only what the prelude could not catch gets here: the engine's own stack overflow, mostly. The
    // error belongs to the iCode's realm, so it is recognised by its message, not by instanceof.
    out = escaped(e);
  }
  let watching = false;
  if (typeof out !== 'string') {
    try {
      sandbox.watch(out);
      watching = true;
    } catch {
      out = failure('bad-result', 'no answer');
    }
  }
  setImmediate(() => {
    const answer = watching ? sandbox.read() : out;
    finish(sandbox, message.id, answer === '' ? failure('bad-result', 'no answer') : answer);
    step();
  });
}

function start() {
  const first = receive();
  if (first.t !== 'load') throw new Error(`expected load, got ${first.t}`);
  try {
    load = {
      prelude: new vm.Script(first.prelude, { filename: 'prelude.js' }),
      factory: new vm.Script(first.factory, { filename: 'icode.js' }),
      maxResultChars: first.maxResultChars,
      maxLogChars: first.maxLogChars,
    };
    new Sandbox('probe'); // evaluates prelude and factory once, so a broken bundle shows up now
  } catch (e) {
    send({ t: 'broken', message: String(e?.message) });
    return;
  }
  send({ t: 'ready' });
  step();
}

// A promise the iCode rejected and never handled is its own business (QuickJS ignores it too); by
// default node would end the process for it.
process.on('unhandledRejection', () => undefined);

start();
