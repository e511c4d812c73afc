import { type Config, configSchema } from './schema.ts';

// ITCHAIN_* environment variables override config fields. The name is ITCHAIN_, the section, and the
// field in SCREAMING_SNAKE_CASE: api.port → ITCHAIN_API_PORT, txpool.maxBatchTxs →
// ITCHAIN_TXPOOL_MAX_BATCH_TXS, the top-level inspect → ITCHAIN_INSPECT. The table is derived from the
// schema, so a new field gets its variable without anyone remembering to add it.
//
// Values are text; they are converted by the field's kind (number, boolean, comma-separated list,
// string) and then validated by the same schema as the file. Text that does not convert is passed on
// as text, so the schema reports it ("expected a positive integer") instead of a second rule here.

const PREFIX = 'ITCHAIN_';

type FieldKind = 'number' | 'boolean' | 'list' | 'string' | 'nullable-string';

export interface EnvField {
  /** e.g. "ITCHAIN_TXPOOL_MAX_BATCH_TXS" */
  readonly name: string;
  /** e.g. ["txpool", "maxBatchTxs"] */
  readonly path: readonly string[];
  readonly kind: FieldKind;
}

function screamingSnake(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function kindOf(defaultValue: unknown): FieldKind {
  if (typeof defaultValue === 'number') return 'number';
  if (typeof defaultValue === 'boolean') return 'boolean';
  if (Array.isArray(defaultValue)) return 'list';
  if (defaultValue === null) return 'nullable-string';
  return 'string';
}

function isSection(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DEFAULTS: Config = configSchema.parse({});

/** Every overridable field and its variable, in schema order. */
export const ENV_FIELDS: readonly EnvField[] = Object.entries(DEFAULTS).flatMap(([section, value]) =>
  isSection(value)
    ? Object.entries(value).map(([field, fieldDefault]) => ({
        name: `${PREFIX}${screamingSnake(section)}_${screamingSnake(field)}`,
        path: [section, field],
        kind: kindOf(fieldDefault),
      }))
    : [{ name: `${PREFIX}${screamingSnake(section)}`, path: [section], kind: kindOf(value) }],
);

const SECTION_PREFIXES = Object.entries(DEFAULTS)
  .filter(([, value]) => isSection(value))
  .map(([section]) => `${PREFIX}${screamingSnake(section)}_`);

function convert(text: string, kind: FieldKind): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
    case 'boolean': {
      const word = text.trim().toLowerCase();
      if (word === 'true' || word === '1' || word === 'yes') return true;
      if (word === 'false' || word === '0' || word === 'no') return false;
      return text;
    }
    case 'list':
      return text.trim() === ''
        ? []
        : text
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item !== '');
    case 'nullable-string':
      return text === '' ? null : text;
    case 'string':
      return text;
  }
}

export interface EnvOverride {
  readonly field: EnvField;
  readonly value: unknown;
}

export interface EnvOverrides {
  readonly overrides: readonly EnvOverride[];
  /** ITCHAIN_<SECTION>_* variables that name no field: most likely typos, so they are errors. */
  readonly unknown: readonly string[];
}

/**
 * Reads the overrides from an environment. Variables that start with ITCHAIN_ and a section name are
 * reserved for config; other ITCHAIN_* variables (ITCHAIN_DEBUG, say) are left alone.
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv): EnvOverrides {
  const byName = new Map(ENV_FIELDS.map((field) => [field.name, field]));
  const overrides: EnvOverride[] = [];
  const unknown: string[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (text === undefined || !name.startsWith(PREFIX)) continue;
    const field = byName.get(name);
    if (field) overrides.push({ field, value: convert(text, field.kind) });
    else if (SECTION_PREFIXES.some((prefix) => name.startsWith(prefix))) unknown.push(name);
  }
  return { overrides, unknown: unknown.sort() };
}
