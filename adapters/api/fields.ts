import { type Canonical, canonicalJson, EncodingError } from '../../domain/canonical.ts';
import { badField } from './api-error.ts';

// Hand-written checks of request bodies: cheap (no schema compile, no copies) and each failure names
// the field. Unknown fields are refused, so a typo ("fn" for "function") is a 400, not a default.

export type Fields = Record<string, unknown>;

/** The value must be a JSON object whose keys are all in `allowed`. */
export function objectOf(value: unknown, allowed: readonly string[], path = 'body'): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badField(path, 'expected a JSON object');
  }
  for (const key in value) {
    if (!allowed.includes(key))
      throw badField(join(path, key), `unknown field (expected ${allowed.join(', ')})`);
  }
  return value as Fields;
}

export function requiredString(fields: Fields, name: string, path: string, maxLength = 256): string {
  const value = fields[name];
  const at = join(path, name);
  if (value === undefined) throw badField(at, 'is required');
  if (typeof value !== 'string') throw badField(at, `expected a string, got ${typeName(value)}`);
  if (value === '') throw badField(at, 'must not be empty');
  if (value.length > maxLength) throw badField(at, `must be at most ${maxLength} characters`);
  return value;
}

export function optionalString(
  fields: Fields,
  name: string,
  path: string,
  maxLength: number,
): string | undefined {
  return fields[name] === undefined ? undefined : requiredString(fields, name, path, maxLength);
}

/**
 * Call arguments: an array of JSON values that the canonical encoding accepts (strings, safe
 * integers, booleans, null, arrays, plain objects). Missing means no arguments.
 */
export function argsOf(fields: Fields, name: string, path: string): Canonical[] {
  const value = fields[name];
  const at = join(path, name);
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw badField(at, `expected an array of JSON values, got ${typeName(value)}`);
  try {
    canonicalJson(value);
  } catch (error) {
    if (error instanceof EncodingError) {
      // EncodingError paths start at '$' (the array itself).
      throw badField(at + error.path.slice(1), error.message.slice(error.path.length + 2));
    }
    throw error;
  }
  return value as Canonical[];
}

export function oneOf<T extends string>(fields: Fields, name: string, path: string, values: readonly T[]): T {
  const value = fields[name];
  const at = join(path, name);
  if (value === undefined) throw badField(at, 'is required');
  if (typeof value !== 'string' || !values.includes(value as T)) {
    throw badField(at, `expected one of ${values.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function join(path: string, name: string): string {
  return path === 'body' ? name : `${path}.${name}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
