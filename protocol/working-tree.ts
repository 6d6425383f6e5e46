import { sessionLabel } from './layout.js';

/** The working tree at the loop's end (activities/end-tree.ts). */
export interface WorkingTree {
  /** `best`: it holds the best's files; `restored`: the engine put them back; `left`: it does not, as the loop left it. */
  state: 'best' | 'restored' | 'left';
  bestSession: number;
  /** The best's variant (the baseline before any promotion). */
  variantDir: string;
  lastSession: number;
  /** The last session's candidate variant, where its files are kept; null when it made none. */
  lastCandidate: string | null;
  /** Workspace files that differed from the best's (restored: those the restore wrote or deleted). */
  files: string[];
  /** The restore manifest of a restore. */
  manifest: string | null;
}

/** One line on the working tree for `status`, or null when it holds the best. */
export function workingTreeLine(t: WorkingTree): string | null {
  const best = `session ${sessionLabel(t.bestSession)}`;
  const last = `session ${sessionLabel(t.lastSession)}`;
  const kept = t.lastCandidate ? `; ${last}'s candidate is kept in ${t.lastCandidate}` : '';
  if (t.state === 'best') return null;
  if (t.state === 'restored')
    return `working tree restored to the best (${best}) from ${t.variantDir}: ${t.files.join(', ')}${kept}`;
  return (
    `working tree = ${last}'s workspace, not the best's; best = ${best}; ` +
    `restore with: cp -R ${t.variantDir}/files/. . (from the root; then delete ${t.files.join(', ')} where the best lacks them)`
  );
}
