// The simulator's only source of randomness: xoshiro128** seeded through splitmix32.
//
// Every consumer gets its own stream, forked by a label from the run seed (`network/n0->n1/drop`,
// `node/n2/1`, `byzantine/n3`). A fork depends on the parent's seed and the label only, never on how
// many numbers the parent has drawn, so adding a crash or a Byzantine node does not reshuffle the
// delays of unrelated links: a seed stays a readable, stable description of one run.

const TWO_POW_32 = 0x1_0000_0000;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32: turns any 32-bit value into a well-mixed sequence; used only for seeding. */
function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** FNV-1a over the UTF-16 code units of a label, salted so each seed word hashes differently. */
function hashLabel(label: string, salt: number): number {
  let h = (0x811c9dc5 ^ Math.imul(salt, 0x27d4eb2d)) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h;
}

export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(private readonly key: readonly [number, number, number, number]) {
    this.s0 = key[0];
    this.s1 = key[1];
    this.s2 = key[2];
    this.s3 = key[3];
  }

  /** A stream for a run seed: any safe integer (the high bits are folded in). */
  static fromSeed(seed: number): Random {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed ${seed} is not a safe integer`);
    const lo = seed >>> 0;
    const hi = Math.floor(Math.abs(seed) / TWO_POW_32) >>> 0;
    const next = splitmix32(lo ^ Math.imul(hi, 0x9e3779b1) ^ (seed < 0 ? 0xdeadbeef : 0));
    const key: [number, number, number, number] = [next(), next(), next(), next()];
    // xoshiro's state must not be all zero.
    if ((key[0] | key[1] | key[2] | key[3]) === 0) key[0] = 1;
    return new Random(key);
  }

  /** An independent stream named by `label`; the same parent seed and label give the same stream. */
  fork(label: string): Random {
    const key: [number, number, number, number] = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      const next = splitmix32(this.key[i]! ^ hashLabel(label, i));
      next();
      key[i] = next();
    }
    if ((key[0] | key[1] | key[2] | key[3]) === 0) key[0] = 1;
    return new Random(key);
  }

  /** The next 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A float in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    if (max < min) throw new RangeError(`empty range [${min}, ${max}]`);
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. Always draws one number, so p = 0 keeps the stream aligned. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  /** 64 lower-case hex characters: a stand-in hash no honest node has seen. */
  hex(chars = 64): string {
    let out = '';
    while (out.length < chars) out += this.nextUint32().toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }
}
