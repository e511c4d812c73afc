import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_FIELDS } from '../../config/env-overrides.ts';
import { configSchema } from '../../config/schema.ts';

// The documented defaults and variables are checked against the schema so the docs cannot drift.
const defaultYaml = readFileSync(new URL('../../config/default.yaml', import.meta.url), 'utf8');
const docs = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');

describe('config documentation', () => {
  it('config/default.yaml lists every field with exactly the schema default', () => {
    expect(parse(defaultYaml)).toEqual(configSchema.parse({}));
  });

  it('docs/config.md names every key and its ITCHAIN_* variable', () => {
    for (const field of ENV_FIELDS) {
      expect(docs).toMatch(new RegExp(`\\| \`${field.path.join('\\.')}\` +\\|`));
      expect(docs).toContain(`\`${field.name}\``);
    }
  });

  it('variable names follow ITCHAIN_<SECTION>_<FIELD> in SCREAMING_SNAKE_CASE', () => {
    const names = Object.fromEntries(ENV_FIELDS.map((f) => [f.path.join('.'), f.name]));
    expect(names['api.port']).toBe('ITCHAIN_API_PORT');
    expect(names['txpool.maxBatchTxs']).toBe('ITCHAIN_TXPOOL_MAX_BATCH_TXS');
    expect(names['grpc.bootstrapPeers']).toBe('ITCHAIN_GRPC_BOOTSTRAP_PEERS');
    expect(names.inspect).toBe('ITCHAIN_INSPECT');
  });
});
