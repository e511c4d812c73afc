/** Indented two-column lines (name, description) with the descriptions aligned, for "what was written". */
export function listing(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, description]) => `  ${name.padEnd(width)}  ${description}`);
}
