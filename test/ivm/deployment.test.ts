import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../domain/canonical.ts';
import { ValidationError } from '../../domain/errors.ts';
import { sha256Hex } from '../../domain/hash.ts';
import { type IcodeDeployment, icodeIdOf } from '../../domain/icode.ts';
import { deploymentArgs, readDeployment } from '../../domain/icode-deployment.ts';

const deployment: IcodeDeployment = {
  gitUrl: 'https://git.example.org/shop/bank.git',
  commit: 'a'.repeat(40),
  bundle: {
    entry: 'index.js',
    files: [
      { path: 'icode.json', content: '{"entry":"index.js"}' },
      { path: 'index.js', content: 'export function f() { return 1; }' },
    ],
  },
};

describe('deploy tx payload', () => {
  it('iCode ID = SHA-256 of canonical {domain, gitUrl, commit} (test vector)', () => {
    const expected = sha256Hex(
      `{"commit":"${'a'.repeat(40)}","domain":"itchain/icode/v1","gitUrl":"https://git.example.org/shop/bank.git"}`,
    );
    expect(icodeIdOf(deployment.gitUrl, deployment.commit)).toBe(expected);
  });

  it('round-trips through the tx args', () => {
    const args = JSON.parse(canonicalJson(deploymentArgs(deployment)));
    expect(readDeployment(args)).toEqual(deployment);
  });

  it.each([
    ['no argument', []],
    ['two arguments', [{}, {}]],
    ['a bad commit', [{ ...deployment, commit: 'HEAD' }]],
    ['an unknown key', [{ ...deployment, extra: 1 }]],
    ['no files', [{ ...deployment, bundle: { entry: 'index.js', files: [] } }]],
    ['a missing entry', [{ ...deployment, bundle: { ...deployment.bundle, entry: 'main.js' } }]],
    [
      'unsorted files',
      [{ ...deployment, bundle: { ...deployment.bundle, files: [...deployment.bundle.files].reverse() } }],
    ],
    [
      'a path escaping the repo',
      [{ ...deployment, bundle: { entry: 'index.js', files: [{ path: '../index.js', content: '' }] } }],
    ],
    [
      'a file that is not source',
      [{ ...deployment, bundle: { entry: 'index.js', files: [{ path: 'index.sh', content: '' }] } }],
    ],
  ])('an untrusted deploy tx with %s is refused', (_what, args) => {
    expect(() => readDeployment(args)).toThrow(ValidationError);
  });

  it('a bundle over the size cap is refused', () => {
    const big = { ...deployment.bundle.files[1]!, content: 'x'.repeat(2000) };
    const args = deploymentArgs({ ...deployment, bundle: { entry: 'index.js', files: [big] } });
    expect(() => readDeployment(args, 1000)).toThrow(/over the limit/);
  });
});
