import { Document } from 'yaml';
import { type ConfigInput, configSchema } from './schema.ts';

/**
 * Renders a config file for a node home. The input is validated first, so a generator can never write
 * a config that the node would refuse at start.
 */
export function formatConfigFile(input: ConfigInput, header: string): string {
  configSchema.parse(input);
  const doc = new Document(input);
  doc.commentBefore = header
    .split('\n')
    .map((line) => (line === '' ? '' : ` ${line}`))
    .join('\n');
  return doc.toString({ lineWidth: 0 });
}
