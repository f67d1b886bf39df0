import type { RunRecord } from './history.js';

/**
 * One vocabulary for how a backup run ended, the same in the CLI summary, `history`, `--json`,
 * the dashboard, the tray and the notifications: the backup's result and the proof's result,
 * each with its reason. A run is good only when its archive was written and no proof of it failed.
 */
export interface RunVerdict {
  backup: RunRecord['outcome'];
  backupReason: string | null;
  /** 'untested': no restore test has been run on this archive yet */
  proof: 'proven' | 'failed' | 'untested';
  proofReason: string | null;
  good: boolean;
  /** one line, e.g. "backup succeeded · proof FAILED: CHECK TABLE …" */
  text: string;
}

export function verdictOf(r: Pick<RunRecord, 'outcome' | 'error' | 'restoreTest'>): RunVerdict {
  const backupReason = r.outcome === 'failed' || r.outcome === 'cancelled' ? (r.error ? [r.error.message, r.error.hint].filter(Boolean).join(' ') : 'no reason recorded') : null;
  const proof = r.outcome !== 'succeeded' || !r.restoreTest ? 'untested' : r.restoreTest.proven ? 'proven' : 'failed';
  const proofReason = proof === 'failed' ? r.restoreTest!.problems.join('; ') || 'no reason recorded' : null;
  return { backup: r.outcome, backupReason, proof, proofReason, good: r.outcome === 'succeeded' && proof !== 'failed', text: verdictText(r.outcome, backupReason, proof, proofReason) };
}

function verdictText(backup: RunRecord['outcome'], backupReason: string | null, proof: RunVerdict['proof'], proofReason: string | null): string {
  if (backup === 'running') return 'backing up';
  if (backup === 'failed') return `backup FAILED: ${backupReason}`;
  if (backup === 'cancelled') return `backup cancelled: ${backupReason}`;
  if (proof === 'proven') return 'backup succeeded · proven';
  if (proof === 'failed') return `backup succeeded · proof FAILED: ${proofReason}`;
  return 'backup succeeded · not proven';
}
