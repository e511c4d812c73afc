import type { ApiResponse } from './api-client.ts';

// How client commands print: --json writes the API's response body exactly; otherwise a few aligned
// lines for a person.

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(response: ApiResponse): void {
  print(response.text);
}

/** Rows of cells, each column padded to its widest cell. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

export function shortHash(hash: string | null | undefined): string {
  return hash ? `${hash.slice(0, 12)}…` : '-';
}

export function time(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}

/** Compact JSON for a value shown inline (results, args). */
export function inline(value: unknown): string {
  return JSON.stringify(value) ?? 'undefined';
}

/** Reads a property of a JSON object the API returned, or undefined. */
export function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && key in value
    ? (value as Record<string, unknown>)[key]
    : undefined;
}
