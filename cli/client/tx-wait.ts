import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { UsageError } from '../option-checks.ts';
import { type ApiClient, type ApiResponse, ClientError } from './api-client.ts';
import { field, inline, print, printJson } from './output.ts';

// `--wait`: polls GET /transactions/:id until the tx is no longer pending, then prints the outcome.
// A rejected tx, or a committed one whose iCode call failed, is a failure (exit 1 with the reason).

const POLL_MS = 150;

export async function waitForTx(client: ApiClient, id: string, timeoutSec: number): Promise<ApiResponse> {
  const deadline = Date.now() + timeoutSec * 1000;
  for (;;) {
    const response = await client.get(`/transactions/${id}`);
    if (field(response.json, 'status') !== 'pending') return response;
    if (Date.now() > deadline) throw new ClientError(`tx ${id} is still pending after ${timeoutSec} s`);
    await sleep(POLL_MS);
  }
}

/** Why a decided tx did not succeed (rejected, or its iCode call failed), or undefined. */
function failureOf(tx: unknown): string | undefined {
  const error = field(tx, 'error');
  if (error === undefined) return undefined;
  const what =
    field(tx, 'status') === 'rejected'
      ? 'was rejected'
      : `committed at height ${field(tx, 'height')} but failed`;
  return `tx ${field(tx, 'id')} ${what}: ${field(error, 'code')}: ${field(error, 'message')}`;
}

/** Prints a tx status (JSON or human); with failOnError a failed tx also throws its reason. */
export function reportTx(response: ApiResponse, json: boolean, failOnError: boolean): void {
  const tx = response.json;
  const failure = failureOf(tx);
  if (json) printJson(response);
  else if (failure && !failOnError) print(failure);
  else if (field(tx, 'status') === 'committed') {
    const result = field(tx, 'result');
    print(
      `tx ${field(tx, 'id')} committed at height ${field(tx, 'height')}` +
        (result === undefined ? '' : `\nresult ${inline(result)}`),
    );
  } else if (!failure) print(`tx ${field(tx, 'id')} ${field(tx, 'status')}`);
  if (failure && failOnError) throw new ClientError(failure);
}

export function timeoutOption(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, got "${text}"`);
  }
  return seconds;
}

export interface WaitFlags {
  wait?: boolean;
  timeout: string;
}

/** Adds --wait and --timeout to a command that submits a tx. */
export function withWaitOptions(command: Command): Command {
  return command
    .option('--wait', 'wait until the tx commits (or is rejected) and print its outcome')
    .option('--timeout <seconds>', 'how long --wait waits', '30');
}

/**
 * After a submit answered 202 with the tx id in `txIdKey`: prints the response (--json) or `line`,
 * or with --wait polls until the tx is decided and reports that instead.
 */
export async function finishSubmit(
  client: ApiClient,
  response: ApiResponse,
  flags: WaitFlags & { json?: boolean },
  line: (txId: string) => string,
  txIdKey = 'id',
): Promise<void> {
  const txId = String(field(response.json, txIdKey));
  if (!flags.wait) {
    if (flags.json) printJson(response);
    else print(line(txId));
    return;
  }
  const timeout = timeoutOption(flags.timeout);
  if (!flags.json) print(line(txId));
  reportTx(await waitForTx(client, txId, timeout), flags.json === true, true);
}
