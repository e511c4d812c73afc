// The iCode SDK: types of the context an iCode function gets, and a local harness to run an iCode
// without a chain. Tutorial: docs/icode-tutorial.md.

export type { IcodeContext, IcodeFunction, IcodeTx, Json, RangeEntry, RangeQuery } from './context.ts';
export { LocalIcode, type LocalIcodeOptions, loadIcode } from './local-icode.ts';
