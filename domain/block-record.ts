import type { Block } from './block.ts';
import type { CommitCertificate } from './commit-certificate.ts';

/**
 * A block as it is stored and synced: with the commit certificate that committed it, so a node that
 * gets it from a single peer can verify it. The genesis block has none (it is stored without consensus).
 */
export interface BlockRecord {
  block: Block;
  cert: CommitCertificate | null;
}
