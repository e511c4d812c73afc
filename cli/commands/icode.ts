import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parseCallArgs } from '../client/call-args.ts';
import { type ClientFlags, clientOf, withClientOptions } from '../client/client-options.ts';
import { field, inline, print, printJson, shortHash, table } from '../client/output.ts';
import { finishSubmit, type WaitFlags, withWaitOptions } from '../client/tx-wait.ts';
import { UsageError } from '../option-checks.ts';

// `itchain icode deploy|list|undeploy|invoke|query`: iCodes through the REST API.

interface DeployFlags extends ClientFlags, WaitFlags {
  sshKey?: string;
}

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const SCP_STYLE = /^[^\s/@]+@[^\s/:]+:/;

/** A URL (https://, ssh://, file://, git@host:path) stays as it is; anything else is a local path. */
export function deploySource(source: string): string {
  return URL_SCHEME.test(source) || SCP_STYLE.test(source) ? source : resolve(source);
}

export function registerIcode(program: Command): void {
  const icode = program.command('icode').description('deploy, list, undeploy, invoke and query iCodes');

  withWaitOptions(
    withClientOptions(
      icode
        .command('deploy <gitUrlOrPath>')
        .description('deploy an iCode from a git URL or a local repository path (made absolute)')
        .option('--ssh-key <file>', 'private key file for an ssh URL'),
    ),
  ).action(async (source: string, flags: DeployFlags) => {
    const body: { gitUrl: string; sshKey?: string } = { gitUrl: deploySource(source) };
    if (flags.sshKey !== undefined) {
      try {
        body.sshKey = readFileSync(flags.sshKey, 'utf8');
      } catch (error) {
        const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
        throw new UsageError(`cannot read --ssh-key ${flags.sshKey} (${code})`);
      }
    }
    const client = clientOf(flags);
    const response = await client.post('/icodes', body);
    const id = String(field(response.json, 'id'));
    await finishSubmit(client, response, flags, (txId) => `deploying iCode ${id} (tx ${txId})`, 'txId');
  });

  withClientOptions(icode.command('list').description('list deployed iCodes')).action(
    async (flags: ClientFlags) => {
      const response = await clientOf(flags).get('/icodes');
      if (flags.json) return printJson(response);
      const icodes = Array.isArray(response.json) ? response.json : [];
      print(
        table([
          ['ID', 'SOURCE', 'COMMIT', 'HEIGHT'],
          ...icodes.map((i) => [
            String(field(i, 'id')),
            String(field(i, 'gitUrl')),
            field(i, 'builtin') ? 'built-in' : shortHash(String(field(i, 'commit'))),
            String(field(i, 'height')),
          ]),
        ]),
      );
    },
  );

  withWaitOptions(withClientOptions(icode.command('undeploy <id>').description('undeploy an iCode'))).action(
    async (id: string, flags: ClientFlags & WaitFlags) => {
      const client = clientOf(flags);
      const response = await client.delete(`/icodes/${encodeURIComponent(id)}`);
      await finishSubmit(client, response, flags, (txId) => `undeploying iCode ${id} (tx ${txId})`, 'txId');
    },
  );

  withWaitOptions(
    withClientOptions(
      icode
        .command('invoke <id> <function> [args...]')
        .description('invoke a function in a tx (args: JSON when it parses, else a string)'),
    ),
  ).action(async (id: string, fn: string, args: string[], flags: ClientFlags & WaitFlags) => {
    const client = clientOf(flags);
    const response = await client.post('/transactions', {
      icodeId: id,
      function: fn,
      args: parseCallArgs(args),
    });
    await finishSubmit(client, response, flags, (txId) => `submitted tx ${txId}`);
  });

  withClientOptions(
    icode
      .command('query <id> <function> [args...]')
      .description(
        'run a read-only function against committed state (args: JSON when it parses, else a string)',
      ),
  ).action(async (id: string, fn: string, args: string[], flags: ClientFlags) => {
    const response = await clientOf(flags).post(`/icodes/${encodeURIComponent(id)}/query`, {
      function: fn,
      args: parseCallArgs(args),
    });
    if (flags.json) return printJson(response);
    print(inline(field(response.json, 'result')));
  });
}
