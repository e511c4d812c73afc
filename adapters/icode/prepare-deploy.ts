// What the accepting node does for POST /icodes before any tx exists: fetch the code from git and
// check that it compiles, so a broken iCode is answered with a 4xx instead of being put on chain.
// The result goes into a `deploy` tx (domain/icode-deployment.ts: deploymentArgs) and every node
// installs the same bundle from the tx on commit.

import { IcodeSourceError } from '../../domain/icode-errors.ts';
import { type FetchedIcode, type FetchOptions, fetchIcode } from '../git/fetch-icode.ts';
import { CompileError, compileBundle } from './compile.ts';

export async function prepareDeploy(gitUrl: string, options: FetchOptions = {}): Promise<FetchedIcode> {
  const fetched = await fetchIcode(gitUrl, options);
  try {
    await compileBundle(fetched.bundle);
  } catch (e) {
    if (e instanceof CompileError) throw new IcodeSourceError('compile', e.message);
    throw e;
  }
  return fetched;
}
