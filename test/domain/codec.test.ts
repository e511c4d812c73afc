import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockCodec,
  blockRecordCodec,
  type Codec,
  certificateCodec,
  genesisCodec,
  txCodec,
  voteCodec,
} from '../../domain/codec.ts';
import { ValidationError } from '../../domain/errors.ts';
import * as arb from './arbitraries.ts';
import {
  certify,
  genesis as genesisBlock,
  genesisFile,
  makeTx,
  nextBlock,
  outsider,
  validators,
} from './fixtures.ts';

/** The ValidationError that `run` throws; fails the test if it throws nothing or something else. */
function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError, but the input was accepted');
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));

// --- Paths into a decoded value, as the decoders name them -----------------------------------------

/** Every field path of a domain value: its keys, and the keys inside blocks, txs, votes, validators (not args). */
function fieldPaths(value: unknown, path = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    out.push(at);
    if (key === 'args') continue;
    if (!Array.isArray(v)) out.push(...fieldPaths(v, at));
    else for (const [i, el] of v.entries()) out.push(...fieldPaths(el, `${at}[${i}]`));
  }
  return out;
}

/** The object holding the field at `path`, and the field's key. */
function locate(root: unknown, path: string): [Record<string, unknown>, string] {
  const steps = path.split(/\.|(?=\[)/).map((s) => (s.startsWith('[') ? Number(s.slice(1, -1)) : s));
  let holder: unknown = root;
  for (const step of steps.slice(0, -1)) holder = (holder as Record<string | number, unknown>)[step];
  return [holder as Record<string, unknown>, String(steps.at(-1))];
}

/** Values no field accepts (null is left out: vote.blockHash and record.cert take it). */
const invalidValue = fc.constantFrom<unknown>(1.5, -1, true, {}, [1.5]);

function namesTheField<T>(codec: Codec<T>, arbitrary: fc.Arbitrary<T>, numRuns: number): void {
  const withPath = arbitrary.chain((value) =>
    fc.tuple(fc.constant(value), fc.constantFrom(...fieldPaths(value))),
  );

  it(`${codec.name}: a field of the wrong type or shape is refused, naming the field`, () => {
    fc.assert(
      fc.property(withPath, invalidValue, ([value, path], bad) => {
        const input = clone(value);
        const [holder, key] = locate(input, path);
        holder[key] = bad;
        for (const err of [
          refusal(() => codec.fromValue(input)),
          refusal(() => codec.decode(utf8(JSON.stringify(input)))),
        ]) {
          expect(err.code).toBe('field');
          // A nested object ({} for record.block) is refused at its first missing field.
          expect(
            err.field === path || err.field.startsWith(`${path}.`) || err.field.startsWith(`${path}[`),
          ).toBe(true);
        }
      }),
      { numRuns },
    );
  });

  it(`${codec.name}: a missing field is refused as missing, and an unknown key as unknown`, () => {
    fc.assert(
      fc.property(withPath, ([value, path]) => {
        const missing = clone(value);
        const [holder, key] = locate(missing, path);
        delete holder[key];
        expect(refusal(() => codec.fromValue(missing))).toMatchObject({ code: 'field', field: path });
        expect(refusal(() => codec.fromValue(missing)).reason).toMatch(/^missing/);

        const extra = clone(value);
        const [parent] = locate(extra, path);
        parent.extra = 1;
        const parentPath = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
        const expected = parentPath === '' ? 'extra' : `${parentPath}.extra`;
        expect(refusal(() => codec.decode(utf8(JSON.stringify(extra))))).toMatchObject({
          code: 'field',
          field: expected,
          reason: 'unknown key',
        });
      }),
      { numRuns },
    );
  });
}

describe('decoders name the field that is wrong', () => {
  namesTheField(txCodec, arb.transaction, 300);
  namesTheField(blockCodec, arb.block, 150);
  namesTheField(voteCodec, arb.vote, 200);
  namesTheField(certificateCodec, arb.certificate, 150);
  namesTheField(blockRecordCodec, arb.blockRecord, 150);
  namesTheField(genesisCodec, arb.genesis, 100);
});

describe('decoders throw nothing but ValidationError', () => {
  const codecs: Codec<unknown>[] = [
    txCodec,
    blockCodec,
    voteCodec,
    certificateCodec,
    blockRecordCodec,
    genesisCodec,
  ];
  const onlyValidationErrors = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
    }
  };

  it('on random bytes, random text and random values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codecs),
        fc.uint8Array({ maxLength: 200 }),
        fc.string({ unit: arb.codeUnit, maxLength: 60 }),
        fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true }),
        (codec, bytes, text, value) => {
          onlyValidationErrors(() => codec.decode(bytes));
          onlyValidationErrors(() => codec.parse(text));
          onlyValidationErrors(() => codec.fromValue(value));
          onlyValidationErrors(() => codec.parse(JSON.stringify(value) ?? 'undefined'));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('on valid encodings with random bytes overwritten', () => {
    const record = { block: nextBlock(genesisBlock, [makeTx('a'), makeTx('b')]), cert: null };
    const bytes = blockRecordCodec.encode(record);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const changed = bytes.slice();
          for (const [at, byte] of edits) changed[at] = byte;
          onlyValidationErrors(() => blockRecordCodec.decode(changed));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('on JSON nested far deeper than the stack would allow a naive walk', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const tx = txCodec.encodeText(makeTx('a')).replace('"args":[', `"args":[${deep},`);
    expect(refusal(() => txCodec.parse(tx, 1e7))).toMatchObject({
      code: 'field',
      field: `args[0]${'[0]'.repeat(16)}`,
    });
    expect(refusal(() => txCodec.decode(utf8(deep)))).toMatchObject({ code: 'size', field: 'tx' });
  });
});

describe('size limits are enforced before parsing', () => {
  const tx = makeTx('a');
  const bytes = txCodec.encode(tx);

  it('refuses input over the limit as size even when it is not JSON at all', () => {
    const junk = new Uint8Array(txCodec.maxBytes + 1).fill(0x7b);
    expect(refusal(() => txCodec.decode(junk))).toMatchObject({ code: 'size', field: 'tx' });
    expect(refusal(() => txCodec.parse(junk))).toMatchObject({ code: 'size', field: 'tx' });
    expect(refusal(() => txCodec.parse('{'.repeat(txCodec.maxBytes + 1)))).toMatchObject({ code: 'size' });
  });

  it('takes the limit per call, and an input exactly at the limit passes', () => {
    expect(txCodec.decode(bytes, bytes.length)).toEqual(tx);
    expect(refusal(() => txCodec.decode(bytes, bytes.length - 1))).toMatchObject({
      code: 'size',
      field: 'tx',
    });
  });

  it('counts UTF-8 bytes, not characters, for text input', () => {
    const wide = makeTx('b', { args: ['ü'.repeat(100)] });
    const text = JSON.stringify(wide);
    const size = Buffer.byteLength(text);
    expect(size).toBeGreaterThan(text.length);
    expect(txCodec.parse(text, size)).toEqual(wide);
    expect(refusal(() => txCodec.parse(text, size - 1))).toMatchObject({ code: 'size' });
  });

  it('checks the canonical size of an already-parsed value', () => {
    expect(refusal(() => txCodec.fromValue(clone(tx), bytes.length - 1))).toMatchObject({ code: 'size' });
  });

  it('has default limits for every type', () => {
    expect(
      [txCodec, blockCodec, voteCodec, certificateCodec, blockRecordCodec, genesisCodec].map(
        (c) => c.maxBytes,
      ),
    ).toEqual([65536, 16777216, 1024, 1048576, 17825792, 1048576]);
  });
});

describe('decode accepts only the canonical encoding; parse accepts any JSON layout', () => {
  const tx = makeTx('a', { args: ['grüße', 1000, { b: 1, a: 2 }] });
  const canonical = txCodec.encodeText(tx);
  const variants: [string, string][] = [
    ['white space', JSON.stringify(tx, null, 1)],
    ['keys out of order', JSON.stringify(Object.fromEntries(Object.entries(tx).reverse()))],
    ['an escaped non-ASCII character', canonical.replace('grüße', 'gr\\u00fc\\u00dfe')],
    ['a number in exponent form', canonical.replace('1000', '1e3')],
    ['an escaped ASCII letter', canonical.replace('"put"', '"\\u0070ut"')],
    ['a byte-order mark', `\uFEFF${canonical}`],
  ];

  it.each(variants)('decode refuses %s, parse accepts it', (_name, text) => {
    expect(text).not.toBe(canonical);
    expect(refusal(() => txCodec.decode(utf8(text)))).toMatchObject({ code: 'field', field: 'tx' });
    expect(txCodec.parse(text)).toEqual(tx);
  });

  it('refuses a duplicated key in decode (parse keeps the last, as JSON.parse does)', () => {
    const text = canonical.replace('"function":"put"', '"function":"get","function":"put"');
    expect(refusal(() => txCodec.decode(utf8(text)))).toMatchObject({ code: 'field', field: 'tx' });
    expect(txCodec.parse(text)).toEqual(tx);
  });

  it('refuses invalid UTF-8 and text that is not JSON, naming the object', () => {
    expect(refusal(() => txCodec.decode(new Uint8Array([0x7b, 0xff, 0x7d])))).toMatchObject({
      code: 'field',
      field: 'tx',
      reason: 'not valid UTF-8',
    });
    expect(refusal(() => blockCodec.parse('{"height": 1,'))).toMatchObject({ code: 'field', field: 'block' });
    expect(refusal(() => voteCodec.parse('[]'))).toMatchObject({ code: 'field', field: 'vote' });
    expect(refusal(() => genesisCodec.parse('organization: yaml?'))).toMatchObject({
      code: 'field',
      field: 'genesis',
    });
  });
});

describe('field formats', () => {
  const tx = makeTx('a');
  const field = (patch: Record<string, unknown>) =>
    refusal(() => txCodec.fromValue({ ...clone(tx), ...patch }));

  it('refuses a tx kind outside invoke, deploy, undeploy, membership', () => {
    expect(field({ kind: 'transfer' })).toMatchObject({ field: 'kind' });
    for (const kind of ['invoke', 'deploy', 'undeploy', 'membership']) {
      expect(txCodec.fromValue({ ...clone(tx), kind }).kind).toBe(kind);
    }
  });

  it('wants hashes and node IDs in lower-case hex of their exact length', () => {
    expect(field({ id: tx.id.toUpperCase() })).toMatchObject({ field: 'id' });
    expect(field({ id: tx.id.slice(1) })).toMatchObject({ field: 'id' });
    expect(field({ signer: tx.signer.toUpperCase() })).toMatchObject({ field: 'signer' });
    expect(field({ signer: `${tx.signer}00` })).toMatchObject({ field: 'signer' });
  });

  it('wants a signature in canonical base64: non-zero padding bits are refused though the bytes are the same', () => {
    const last = tx.signature[85]!; // one of A, Q, g, w: its low 4 bits are padding
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const sloppy = `${tx.signature.slice(0, 85)}${alphabet[alphabet.indexOf(last) + 1]}==`;
    expect(Buffer.from(sloppy, 'base64').equals(Buffer.from(tx.signature, 'base64'))).toBe(true);
    expect(field({ signature: sloppy })).toMatchObject({ field: 'signature' });
    expect(field({ signature: tx.signature.replace(/==$/, '') })).toMatchObject({ field: 'signature' });
    expect(field({ signature: Buffer.alloc(65).toString('base64') })).toMatchObject({ field: 'signature' });
  });

  it('wants counts as non-negative safe integers, and refuses -0', () => {
    for (const timestamp of [-1, 1.5, 2 ** 53, Number.NaN, '1', -0]) {
      expect(field({ timestamp })).toMatchObject({ field: 'timestamp' });
    }
    expect(
      refusal(() =>
        txCodec.decode(utf8(txCodec.encodeText(tx).replace(/"timestamp":\d+/, '"timestamp":-0'))),
      ),
    ).toMatchObject({ field: 'timestamp' });
  });

  it('wants tokens of 1-128 printable ASCII characters without space, quote or backslash', () => {
    for (const icodeId of ['', 'a b', 'a"b', 'a\\b', 'kv\n', 'ü', 'x'.repeat(129)]) {
      expect(field({ icodeId })).toMatchObject({ field: 'icodeId' });
    }
    expect(txCodec.fromValue({ ...clone(tx), icodeId: 'x'.repeat(128) }).icodeId).toHaveLength(128);
  });

  it('takes any JSON in args, with safe integers only, at most 16 deep, and no __proto__ key', () => {
    const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : [nest(depth - 1)]);
    expect(txCodec.fromValue({ ...clone(tx), args: [nest(16)] }).args).toEqual([nest(16)]);
    expect(field({ args: [nest(17)] }).field).toBe(`args[0]${'[0]'.repeat(16)}`);
    expect(field({ args: ['ok', { n: [1, 2.5] }] })).toMatchObject({ field: 'args[1].n[1]' });
    expect(field({ args: [{ big: 2 ** 60 }] })).toMatchObject({ field: 'args[0].big' });
    expect(field({ args: [{ 'odd key': 0.1 }] })).toMatchObject({ field: 'args[0]["odd key"]' });
    expect(
      refusal(() => txCodec.parse(JSON.stringify(tx).replace('"args":[', '"args":[{"__proto__":{}},'))),
    ).toMatchObject({ field: 'args[0].__proto__' });
    expect(field({ args: 'put key value' })).toMatchObject({ field: 'args' });
  });

  it('refuses a __proto__ key at the top level as an unknown key', () => {
    const text = txCodec.encodeText(tx).replace('{', '{"__proto__":{"polluted":true},');
    expect(refusal(() => txCodec.parse(text))).toMatchObject({ field: '__proto__', reason: 'unknown key' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('shows a hostile key briefly and quoted', () => {
    const err = field({ [`${'k'.repeat(500)} "`]: 1 });
    expect(err.reason).toBe('unknown key');
    expect(err.field.length).toBeLessThan(80);
  });

  it('takes a vote for nothing (blockHash null) and a record without a certificate (genesis)', () => {
    const block = nextBlock(genesisBlock, [tx]);
    const nil = { ...certify(block).precommits[0]!, blockHash: null };
    expect(voteCodec.decode(voteCodec.encode(nil)).blockHash).toBeNull();
    expect(
      blockRecordCodec.decode(blockRecordCodec.encode({ block: genesisBlock, cert: null })).cert,
    ).toBeNull();
    expect(refusal(() => voteCodec.fromValue({ ...nil, type: 'commit' }))).toMatchObject({ field: 'type' });
  });
});

/** A self-signed certificate with basicConstraints CA:FALSE (made once with openssl). */
const NOT_A_CA = `-----BEGIN CERTIFICATE-----
MIIBJjCB2aADAgECAgECMAUGAytlcDATMREwDwYDVQQDDAhub3QgYSBDQTAgFw0y
NjExMjUyMDAzMTRaGA8yMTI2MTEwMTIwMDMxNFowEzERMA8GA1UEAwwIbm90IGEg
Q0EwKjAFBgMrZXADIQBGZifVJ3PJ1c2myP0o6jHse5TmiqjULirTGnXcjSTtB6NQ
ME4wHQYDVR0OBBYEFELdkG3s8+C8bbTntekilaarIDXSMB8GA1UdIwQYMBaAFELd
kG3s8+C8bbTntekilaarIDXSMAwGA1UdEwEB/wQCMAAwBQYDK2VwA0EAUoeYY0/C
ZmshP6gDSBjXoNRkSZCHyYO219O3tvG+KxySDx7mMOHuJASrkCBYNvia8EIAoIJ6
Baqp+V0BbUU1Ag==
-----END CERTIFICATE-----
`;

describe('genesis file', () => {
  const good = clone(genesisFile);
  const refuse = (patch: Record<string, unknown>) =>
    refusal(() => genesisCodec.fromValue({ ...clone(good), ...patch }));
  const key0 = good.validators[0]!;

  it('parses the fixture file, in any layout', () => {
    expect(genesisCodec.parse(JSON.stringify(good, null, 2))).toEqual(good);
  });

  it('wants one PEM CA certificate, nothing around it', () => {
    expect(refuse({ caCertificate: 'not a certificate' })).toMatchObject({ field: 'caCertificate' });
    expect(refuse({ caCertificate: `${good.caCertificate}trailing` })).toMatchObject({
      field: 'caCertificate',
    });
    expect(refuse({ caCertificate: `${good.caCertificate}${good.caCertificate}` })).toMatchObject({
      field: 'caCertificate',
    });
    const broken = good.caCertificate.replace('MIIB', 'MIIC');
    expect(refuse({ caCertificate: broken }).reason).toMatch(/X\.509/);
  });

  it('refuses a certificate that is not a CA (basicConstraints CA:FALSE)', () => {
    expect(refuse({ caCertificate: NOT_A_CA }).reason).toMatch(/not a CA/);
  });

  it('wants each validator’s publicKey as one PEM SPKI Ed25519 key whose node ID is nodeId', () => {
    const privatePem = validators[0]!.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(refuse({ validators: [{ ...key0, publicKey: privatePem }] })).toMatchObject({
      field: 'validators[0].publicKey',
    });
    expect(refuse({ validators: [{ ...key0, publicKey: good.caCertificate }] })).toMatchObject({
      field: 'validators[0].publicKey',
    });
    expect(refuse({ validators: [key0, { ...key0, nodeId: outsider.nodeId }] })).toMatchObject({
      field: 'validators[1].nodeId',
    });
  });

  it('wants at least one validator, each once', () => {
    expect(refuse({ validators: [] })).toMatchObject({ field: 'validators' });
    expect(refuse({ validators: [key0, good.validators[1], key0] })).toMatchObject({
      field: 'validators[2].nodeId',
      reason: 'appears twice',
    });
  });

  it('wants the organization as one line of text', () => {
    expect(refuse({ organization: 'Two\nLines' })).toMatchObject({ field: 'organization' });
    expect(refuse({ organization: '' })).toMatchObject({ field: 'organization' });
    expect(genesisCodec.fromValue({ ...clone(good), organization: 'Café Ünion ☕' }).organization).toBe(
      'Café Ünion ☕',
    );
  });
});
