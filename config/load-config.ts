import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { type EnvOverride, readEnvOverrides } from './env-overrides.ts';
import { type Config, configSchema } from './schema.ts';

/** One thing wrong with a config: where it came from (file or variable), which key, and what is wrong. */
export interface ConfigProblem {
  /** The config file path, or the ITCHAIN_* variable that set the value. */
  readonly source: string;
  /** Dotted key path, e.g. "txpool.maxBatchTxs"; empty for a problem with the whole file. */
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map(describeProblem).join('; '));
    this.name = 'ConfigError';
  }
}

function describeProblem(p: ConfigProblem): string {
  if (p.source.startsWith('ITCHAIN_') && p.key !== '')
    return `${p.source} (overrides ${p.key}): ${p.message}`;
  return p.key === '' ? `${p.source}: ${p.message}` : `${p.source}: ${p.key}: ${p.message}`;
}

function keyPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text;
}

function problemsOf(issues: readonly z.core.$ZodIssue[], sourceOf: (key: string) => string): ConfigProblem[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((unknownKey) => {
        const key = keyPath([...issue.path, unknownKey]);
        return { source: sourceOf(key), key, message: 'unknown key' };
      });
    }
    const key = keyPath(issue.path);
    return [{ source: sourceOf(key), key, message: issue.message }];
  });
}

function parseYaml(text: string, file: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `${file}:${at.line}:${at.col}` : file;
    // The pretty message repeats the position and quotes the source lines; keep the reason only.
    const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError([{ source: where, key: '', message: `invalid YAML: ${reason}` }]);
  }
  return doc.toJS() ?? {};
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withOverrides(
  raw: Record<string, unknown>,
  overrides: readonly EnvOverride[],
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...raw };
  for (const { field, value } of overrides) {
    const [section, key] = field.path;
    if (key === undefined) {
      merged[section!] = value;
    } else {
      const current = merged[section!];
      merged[section!] = { ...(isMapping(current) ? current : {}), [key]: value };
    }
  }
  return merged;
}

export interface LoadConfigOptions {
  /** Where a relative ITCHAIN_NODE_HOME resolves; the process's working directory by default. */
  readonly cwd?: string;
}

/**
 * Parses and validates a config text. The file is checked on its own first, so its problems name the
 * file; then the ITCHAIN_* overrides are applied and checked, and their problems name the variable.
 * Relative paths resolve against the node home; a relative home resolves against the config file's
 * directory (or, when it comes from ITCHAIN_NODE_HOME, against the working directory).
 */
export function parseConfig(
  text: string,
  file: string,
  env: NodeJS.ProcessEnv = {},
  options: LoadConfigOptions = {},
): Config {
  const raw = parseYaml(text, file);
  if (!isMapping(raw)) {
    throw new ConfigError([
      { source: file, key: '', message: 'expected a mapping of sections at the top level' },
    ]);
  }
  const fromFile = configSchema.safeParse(raw);
  if (!fromFile.success) throw new ConfigError(problemsOf(fromFile.error.issues, () => file));

  const { overrides, unknown } = readEnvOverrides(env);
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((name) => ({
        source: name,
        key: '',
        message: 'not a config variable (the ITCHAIN_* names are listed in docs/config.md)',
      })),
    );
  }
  const overridden = new Map(overrides.map(({ field }) => [field.path.join('.'), field.name]));
  const merged = configSchema.safeParse(withOverrides(raw, overrides));
  if (!merged.success) {
    throw new ConfigError(problemsOf(merged.error.issues, (key) => overridden.get(key) ?? file));
  }

  const config = merged.data;
  const homeBase = overridden.has('node.home') ? (options.cwd ?? process.cwd()) : dirname(resolve(file));
  const home = resolve(homeBase, config.node.home);
  const inHome = (path: string) => (isAbsolute(path) ? path : resolve(home, path));
  return {
    ...config,
    node: {
      home,
      keyFile: inHome(config.node.keyFile),
      certFile: inHome(config.node.certFile),
      caFile: inHome(config.node.caFile),
    },
    network: { ...config.network, genesisFile: inHome(config.network.genesisFile) },
    storage: { path: inHome(config.storage.path) },
  };
}

/** Reads, validates and resolves a node's config file; see `parseConfig`. */
export function loadConfig(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadConfigOptions = {},
): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ConfigError([{ source: file, key: '', message: `cannot read the config file (${reason})` }]);
  }
  return parseConfig(text, file, env, options);
}
