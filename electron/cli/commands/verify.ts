import { parseArgs } from 'node:util';
import { verifyArchive } from '../../core/archive/verify-archive.js';
import { UsageError } from '../options.js';
import { formatBytes, type Reporter } from '../reporter.js';

export const VERIFY_HELP = `quiesce verify ARCHIVE — check every file against the archive's MANIFEST.json

  --json         JSON lines on stdout`;

export async function verifyCommand(argv: string[], reporter: Reporter): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  void values;
  const file = positionals[0];
  if (!file) throw new UsageError('Name the archive: quiesce verify ARCHIVE.');
  const result = await verifyArchive(file);
  const first = result.problems[0];
  reporter.result(
    { command: 'verify', archive: file, ok: result.ok, filesChecked: result.filesChecked, bytesChecked: result.bytesChecked, problems: result.problems },
    result.ok
      ? [`OK: ${result.filesChecked} files, ${formatBytes(result.bytesChecked)}, every SHA-256 matches the manifest.`]
      : [`FAILED: ${result.problems.length} problem(s); first: ${first!.path} (${first!.problem}).`],
  );
  return result.ok ? 0 : 1;
}
