// Every way preparing a deploy can fail before any tx exists, as a typed error naming the cause. The
// API answers each with a 4xx and `{"error":{"code","message"}}`; nothing is deployed and no temp
// file is left behind.

export type IcodeSourceErrorCode =
  | 'bad-url' // not a URL or path we can clone (unknown scheme, credentials in it, malformed)
  | 'repo-not-found' // nothing to clone there, or it refused us (missing repo, bad key, unreachable host)
  | 'empty-repo' // the repository has no commit
  | 'no-entry' // the entry file (icode.json's "entry", default index.js) is not in the repository
  | 'bad-manifest' // icode.json is not valid JSON or names a bad entry
  | 'bad-file' // a file cannot be bundled (not UTF-8, bad name, symlink out of the repository)
  | 'too-large' // the bundle is over the size limit
  | 'compile' // the source does not compile or imports something outside the bundle
  | 'timeout'; // cloning took longer than allowed

/** Suggested HTTP status per code: 422 for code that is there but unusable, 413 for size, all 4xx. */
export const ICODE_SOURCE_HTTP_STATUS: Readonly<Record<IcodeSourceErrorCode, number>> = {
  'bad-url': 400,
  'repo-not-found': 404,
  'empty-repo': 422,
  'no-entry': 422,
  'bad-manifest': 422,
  'bad-file': 422,
  'too-large': 413,
  compile: 422,
  timeout: 408,
};

export class IcodeSourceError extends Error {
  constructor(
    readonly code: IcodeSourceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IcodeSourceError';
  }
}
