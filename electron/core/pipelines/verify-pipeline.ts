import type { ArchiveRef } from '../archive/archive-ref.js';
import { damageOf, verifyArchive, type VerifyResult } from '../archive/verify-archive.js';
import type { ProofFacts } from '../jobs/history.js';
import type { EventSink } from '../progress/progress-meter.js';
import type { GivenKeyFile } from '../restore/given-key-file.js';
import { restoreTest, type RestoreTestResult } from '../restore/restore-test.js';

/**
 * Where a verification's verdict is kept with the run that wrote the archive: the history
 * (`HistoryStore`), or a scheduled run's own record while it is still being written.
 */
export interface ProofBook {
  noteProof(archive: string, proof: ProofFacts): Promise<void>;
}

export interface VerifyRequest {
  archive: ArchiveRef;
  /** then prove it restores: a throw-away server started on the restored copy */
  prove: boolean;
  key?: GivenKeyFile;
  scratchParent?: string;
  /** null: nothing recorded (the app records what its worker found, through recordVerdict) */
  book: ProofBook | null;
}

export interface VerifyOutcome {
  verify: VerifyResult;
  proof: RestoreTestResult | null;
}

/** The one verify (and prove): checked, proven when asked and whole, and the verdict kept with the run that wrote it. */
export async function runVerify(request: VerifyRequest, hooks: { onEvent: EventSink; signal?: AbortSignal }): Promise<VerifyOutcome> {
  const { archive, book } = request;
  const verify = await verifyArchive(archive, hooks.onEvent, hooks.signal).catch(async (error: unknown) => {
    // an archive too damaged to read: a failed proof of the run that wrote it
    const damage = damageOf(error);
    if (damage && book) await recordVerdict(book, archive.url, { ok: false, damage, proof: null });
    throw error;
  });
  const proof = request.prove && verify.ok ? await restoreTest(archive, { scratchParent: request.scratchParent, key: request.key, onEvent: hooks.onEvent, verified: verify, signal: hooks.signal }) : null;
  if (book) await recordVerdict(book, archive.url, { ok: verify.ok, damage: damageText(verify), proof });
  return { verify, proof };
}

/** Verification problems in one line: how many, and the first. */
export function damageText(v: { problems: { path: string; problem: string }[] }): string {
  const first = v.problems[0];
  return first ? `${v.problems.length} problem(s); first: ${first.path} (${first.problem})` : '';
}

/**
 * A verdict into the book, for every trigger (the CLI and the schedule through runVerify, the
 * app when its worker's job ends): a proof as it came out, damage as a failed proof. Never
 * throws: a record that cannot be written does not change what the user is told.
 */
export async function recordVerdict(book: ProofBook, archive: string, v: { ok: boolean; damage: string; proof: ProofFacts | null }): Promise<void> {
  const facts = v.proof ?? (v.ok ? null : { proven: false, testedAt: new Date().toISOString(), durationMs: 0, problems: [`the archive failed verification: ${v.damage}`] });
  if (facts) await book.noteProof(archive, facts).catch(() => undefined);
}
