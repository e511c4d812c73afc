import type { Command } from 'commander';
import { UsageError } from '../option-checks.ts';
import { ApiClient } from './api-client.ts';

// The options every client command takes. The environment can set the defaults: ITCHAIN_CLIENT_API
// and ITCHAIN_CLIENT_TOKEN (ITCHAIN_<config section>_* names belong to the node's config loader).

export const DEFAULT_API = 'http://127.0.0.1:4000';

export interface ClientFlags {
  api?: string;
  token?: string;
  json?: boolean;
}

export function withClientOptions(command: Command): Command {
  return command
    .option('--api <url>', `the node's REST API (default $ITCHAIN_CLIENT_API or ${DEFAULT_API})`)
    .option('--token <token>', 'bearer token for mutating calls (default $ITCHAIN_CLIENT_TOKEN)')
    .option('--json', 'print the API response JSON exactly');
}

export function clientOf(flags: ClientFlags): ApiClient {
  const api = flags.api ?? process.env.ITCHAIN_CLIENT_API ?? DEFAULT_API;
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new UsageError(`--api must be an http:// or https:// URL, got "${api}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--api must be an http:// or https:// URL, got "${api}"`);
  }
  return new ApiClient(api, flags.token ?? process.env.ITCHAIN_CLIENT_TOKEN);
}
