// Every file docs/statecharts holds that the generator writes, with the content it would write now.
// generate.ts writes or checks them; test/docs/statecharts.test.ts fails when one is stale.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentedMachines } from './machines.ts';
import { type DocumentedMachine, renderIndex, renderMachinePage } from './render.ts';

export const STATECHARTS_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface Page {
  /** File name inside the output folder. */
  file: string;
  content: string;
}

function proseOf(doc: DocumentedMachine): string | null {
  const path = join(STATECHARTS_DIR, 'prose', `${doc.name}.md`);
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

export function expectedPages(docs: readonly DocumentedMachine[] = documentedMachines): Page[] {
  return [
    { file: 'README.md', content: renderIndex(docs) },
    ...docs.map((doc) => ({ file: `${doc.name}.md`, content: renderMachinePage(doc, proseOf(doc)) })),
  ];
}

/** Pages whose file in `dir` is missing or differs from what the generator would write now. */
export function stalePages(dir: string, pages: readonly Page[] = expectedPages()): Page[] {
  return pages.filter((page) => {
    const path = join(dir, page.file);
    return !existsSync(path) || readFileSync(path, 'utf8') !== page.content;
  });
}
