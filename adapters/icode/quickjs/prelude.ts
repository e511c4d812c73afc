// The guest side of the sandbox, evaluated once in every new context before any iCode code. It
//  1. replaces what would make nodes disagree or let code be made at run time (Date, Math.random,
//     WeakRef, FinalizationRegistry, eval, the Function constructors) with functions that throw a
//     clear error (QuickJS has no timers, require, process, fetch or file system to begin with);
//  2. freezes every object reachable from globalThis, so no call can leave anything behind in the
//     realm for a later call to find (prototype pollution included);
//  3. returns {install, invoke}: invoke takes {fn, args, tx, icodeId} as JSON, builds ctx, runs the iCode's factory (fresh module variables
//     every time), calls the function and answers with one string, 'R' + result JSON or 'E' + error.
// The host functions it closes over never see anything but strings; every rule is enforced on the
// host side again (state-access.ts), the guest is never trusted.

export const PRELUDE = `(function (hostGet, hostPut, hostDel, hostRange, hostLog, maxResultChars) {
  'use strict';
  const { freeze, defineProperty, getOwnPropertyDescriptor, getPrototypeOf } = Object;
  const ownKeys = Reflect.ownKeys;
  const hasOwn = Object.prototype.hasOwnProperty;
  const parse = JSON.parse;
  const stringify = JSON.stringify;
  const g = globalThis;

  function unavailable(what, why) {
    return function () {
      throw new TypeError(what + ' is not available in an iCode: ' + why);
    };
  }
  const replace = (object, name, value) =>
    defineProperty(object, name, { value, writable: false, enumerable: false, configurable: false });

  replace(Math, 'random', unavailable('Math.random', 'every node must compute the same result'));
  const noClock = unavailable('Date', 'use ctx.tx.timestamp, which is the same on every node');
  for (const name of ['now', 'parse', 'UTC']) replace(noClock, name, noClock);
  replace(g, 'Date', noClock);
  replace(g, 'WeakRef', unavailable('WeakRef', 'garbage collection differs between nodes'));
  replace(g, 'FinalizationRegistry', unavailable('FinalizationRegistry', 'garbage collection differs between nodes'));
  replace(g, 'eval', unavailable('eval', 'code is fixed at deploy'));
  const codeAtRunTime = unavailable('the Function constructor', 'code is fixed at deploy');
  codeAtRunTime.prototype = Function.prototype;
  replace(g, 'Function', codeAtRunTime);
  for (const f of [function () {}, async function () {}, function* () {}, async function* () {}]) {
    replace(getPrototypeOf(f), 'constructor', codeAtRunTime);
  }
  const log = (level) => (...parts) => { hostLog(level, parts.map((p) => String(p)).join(' ')); };
  replace(g, 'console', { log: log('info'), info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') });

  const seen = new Set();
  const todo = [g];
  while (todo.length > 0) {
    const o = todo.pop();
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) continue;
    seen.add(o);
    freeze(o);
    todo.push(getPrototypeOf(o));
    for (const key of ownKeys(o)) {
      const d = getOwnPropertyDescriptor(o, key);
      if (d === undefined) continue;
      if (hasOwn.call(d, 'value')) todo.push(d.value);
      else todo.push(d.get, d.set);
    }
  }

  function deepFreeze(v) {
    if (typeof v === 'object' && v !== null) {
      for (const key of ownKeys(v)) deepFreeze(v[key]);
      freeze(v);
    }
    return v;
  }

  function fail(code, message) {
    return 'E' + stringify({ code, message });
  }

  function describe(e) {
    try {
      let name = '';
      let message;
      if (typeof e === 'object' && e !== null) {
        name = String(e.name);
        message = String(e.message);
      } else {
        message = String(e);
      }
      if (name === 'InternalError' && message === 'out of memory') return fail('out-of-memory', message);
      if (name === 'InternalError' && message === 'stack overflow') return fail('stack-overflow', message);
      return fail('icode-error', name && name !== 'Error' ? name + ': ' + message : message);
    } catch (inner) {
      return fail('icode-error', 'the iCode threw a value that cannot be shown');
    }
  }

  function encode(result) {
    const json = result === undefined ? 'null' : stringify(result);
    if (typeof json !== 'string') return fail('bad-result', 'the result cannot be encoded as JSON');
    if (json.length > maxResultChars) return fail('result-too-large', 'the result has ' + json.length + ' characters');
    return 'R' + json;
  }

  let factory;
  function install(f) {
    if (factory !== undefined) throw new TypeError('an iCode is installed already');
    factory = f;
  }

  function invoke(requestJson) {
    try {
      const request = parse(requestJson);
      const fn = request.fn;
      const icodeId = request.icodeId;
      const args = deepFreeze(request.args);
      const tx = request.tx === null ? null : deepFreeze(request.tx);
      const ctx = freeze({
        icodeId,
        fn,
        args,
        tx,
        signer: tx === null ? null : tx.signer,
        get(key) {
          const json = hostGet(key);
          return json === null ? null : parse(json);
        },
        put(key, value) {
          hostPut(key, stringify(value));
        },
        del(key) {
          hostDel(key);
        },
        range(query) {
          return parse(hostRange(stringify(query)));
        },
      });
      const module = { exports: {} };
      factory.call(undefined, module, module.exports);
      const exported = module.exports;
      const target =
        (typeof exported === 'object' || typeof exported === 'function') && exported !== null && hasOwn.call(exported, fn)
          ? exported[fn]
          : undefined;
      if (typeof target !== 'function') return fail('no-such-function', 'the iCode exports no function ' + fn);
      const result = target.apply(undefined, [ctx, ...args]);
      if (result instanceof Promise) return result.then(encode, describe);
      return encode(result);
    } catch (e) {
      return describe(e);
    }
  }

  return freeze({ install, invoke });
})`;
