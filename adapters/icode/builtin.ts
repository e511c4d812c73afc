// Built-in iCodes: present on every chain without a deploy, under a fixed ID (SPEC §6: `kv`).
//
// `kv` is an ordinary iCode (builtin/kv/index.js) run by the same runtime as deployed code, not a
// native shortcut: one code path means the same gas metering, limits, receipts and state layout as
// every other iCode, in QuickJS and Docker alike, and it doubles as the smallest example of the SDK.
// A native version would save ~50 µs per call and add a second implementation of the ctx rules
// that could drift from the first. Its source ships with the node, so every node of a network that
// runs the same release runs the same kv.

import { fileURLToPath } from 'node:url';
import { BUILTIN_KV_ID, type IcodeBundle } from '../../domain/icode.ts';
import { bundleDirectory } from './bundle-directory.ts';

const FOLDERS: Readonly<Record<string, string>> = {
  [BUILTIN_KV_ID]: fileURLToPath(new URL('./builtin/kv/', import.meta.url)),
};

export const BUILTIN_ICODE_IDS: readonly string[] = Object.keys(FOLDERS);

export function isBuiltinIcode(icodeId: string): boolean {
  return Object.hasOwn(FOLDERS, icodeId);
}

const bundles = new Map<string, Promise<IcodeBundle>>();

/** The bundle of a built-in iCode, or undefined for any other ID. */
export function builtinBundle(icodeId: string): Promise<IcodeBundle> | undefined {
  const folder = isBuiltinIcode(icodeId) ? FOLDERS[icodeId] : undefined;
  if (folder === undefined) return undefined;
  let bundle = bundles.get(icodeId);
  if (!bundle) {
    bundle = bundleDirectory(folder);
    bundles.set(icodeId, bundle);
  }
  return bundle;
}
