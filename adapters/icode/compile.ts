// Turns an iCode bundle (ES modules or CommonJS, several files) into one factory script:
//   (function (module, exports) { 'use strict'; ...every file of the bundle, linked... })
// A runtime compiles the factory once and calls it at the start of every invoke, so each invoke gets
// fresh module variables: nothing an earlier call left in module scope can reach it. Calling the
// factory costs microseconds; re-parsing the modules for every call would cost ~100 µs.
//
// esbuild does the linking (the version pinned in package-lock; every node of a network runs the same
// software, as it must for gas anyway). Only files of the bundle can be imported: no npm packages,
// no Node built-ins. The output is deterministic: same bundle, same factory, on every node.

import { posix } from 'node:path';
import { build, type Loader, type Message, type Plugin } from 'esbuild';
import type { IcodeBundle } from '../../domain/icode.ts';

export class CompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompileError';
  }
}

export interface CompiledIcode {
  /** A JavaScript expression: the factory function. */
  factory: string;
}

const NAMESPACE = 'icode';
const RESOLVE_SUFFIXES = ['', '.js', '.mjs', '.cjs', '.json', '/index.js', '/index.mjs', '/index.cjs'];

function loaderOf(path: string): Loader {
  return path.endsWith('.json') ? 'json' : 'js';
}

function bundleFiles(bundle: IcodeBundle): Plugin {
  const files = new Map(bundle.files.map((f) => [f.path, f.content]));
  return {
    name: 'icode-bundle-files',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return { path: bundle.entry, namespace: NAMESPACE };
        if (!args.path.startsWith('./') && !args.path.startsWith('../')) {
          return {
            errors: [
              {
                text: `cannot import "${args.path}": an iCode can only import its own files (no npm packages, no Node built-ins)`,
              },
            ],
          };
        }
        const base = posix.normalize(posix.join(posix.dirname(args.importer), args.path));
        const found = RESOLVE_SUFFIXES.map((s) => base + s).find((p) => files.has(p));
        if (found === undefined)
          return { errors: [{ text: `cannot import "${args.path}": no such file in the bundle` }] };
        return { path: found, namespace: NAMESPACE };
      });
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: files.get(args.path) ?? '',
        loader: loaderOf(args.path),
      }));
    },
  };
}

function describe(messages: readonly Message[]): string {
  return messages
    .slice(0, 5)
    .map((m) =>
      m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : m.text,
    )
    .join('; ');
}

function hasMessages(value: unknown): value is { errors: Message[] } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { errors?: unknown }).errors);
}

/** Links the bundle into one factory, or throws CompileError saying where the source is wrong. */
export async function compileBundle(bundle: IcodeBundle): Promise<CompiledIcode> {
  try {
    const result = await build({
      entryPoints: [bundle.entry],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'neutral',
      target: 'es2022',
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [bundleFiles(bundle)],
    });
    const code = result.outputFiles[0]?.text ?? '';
    return { factory: `(function (module, exports) {\n'use strict';\n${code}\n})` };
  } catch (e) {
    if (hasMessages(e) && e.errors.length > 0) throw new CompileError(describe(e.errors));
    throw new CompileError(e instanceof Error ? e.message : String(e));
  }
}
