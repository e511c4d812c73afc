// `npm run diagrams`: writes docs/statecharts/<machine>.md (walk-through + Mermaid diagram + tables)
// and the index from the machine definitions. `--check` writes nothing and exits 1 when a page is
// stale, naming it. `--out <dir>` writes (or checks) another folder.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expectedPages, STATECHARTS_DIR, stalePages } from './pages.ts';

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const outAt = argv.indexOf('--out');
  const dir = (outAt >= 0 ? argv[outAt + 1] : undefined) ?? STATECHARTS_DIR;
  const stale = stalePages(dir, expectedPages());
  const shown = (file: string) => relative(process.cwd(), join(dir, file)) || file;
  if (check) {
    for (const page of stale) console.error(`stale: ${shown(page.file)}`);
    if (stale.length) console.error('Run `npm run diagrams` to regenerate.');
    else console.log('docs/statecharts is up to date');
    return stale.length ? 1 : 0;
  }
  mkdirSync(dir, { recursive: true });
  for (const page of stale) {
    writeFileSync(join(dir, page.file), page.content);
    console.log(`wrote ${shown(page.file)}`);
  }
  if (!stale.length) console.log('docs/statecharts is up to date');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
