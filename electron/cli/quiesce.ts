#!/usr/bin/env node
import { QuiesceError } from '../core/errors.js';
import { TOOL_VERSION } from '../core/version.js';
import { BACKUP_HELP, backupCommand } from './commands/backup.js';
import { INSPECT_HELP, inspectCommand } from './commands/inspect.js';
import { RECOVER_HELP, recoverCommand } from './commands/recover.js';
import { RESTORE_HELP, restoreCommand } from './commands/restore.js';
import { PROFILES_HELP, profilesCommand } from './commands/profiles.js';
import { HISTORY_HELP, historyCommand } from './commands/history.js';
import { PRUNE_HELP, pruneCommand } from './commands/prune.js';
import { RUN_DUE_HELP, runDueCommand } from './commands/run-due.js';
import { SCHEDULE_HELP, scheduleCommand } from './commands/schedule.js';
import { VERIFY_HELP, verifyCommand } from './commands/verify.js';
import { LIST_HELP, listCommand } from './commands/list.js';
import { BINLOGS_HELP, binlogsCommand } from './commands/binlogs.js';
import { AGENT_HELP, agentCommand } from './commands/agent.js';
import { JOB_HELP, jobCommand } from './commands/job.js';
import { Interrupts } from './interrupts.js';
import { UsageError, refusePasswordFlag } from './options.js';
import { logUnexpected } from './unexpected.js';
import { JsonReporter, TextReporter, type Reporter } from './reporter.js';

const HELP = `quiesce ${TOOL_VERSION} — consistent, verified backups of MySQL/MariaDB replicas

Usage: quiesce COMMAND [options]     (quiesce COMMAND --help for its options)

  inspect    what a backup of this replica would do (read-only)
  backup     back a replica up: cold (stop, copy, start; the default), dump, or read-only
  verify     check an archive against its manifest (--restore-test: and prove it restores)
  restore    put a backup back, at its original paths or new ones (--until: to a point in time)
  binlogs    keep the source's binary logs (pull), and see what they recover (list)
  agent      the engine on a database host reached over SSH: status, install, remove
  job        on a database host: the commands clients run there over SSH (run, follow, list, cancel)
  recover    bring back a replica whose backup was interrupted
  profiles   saved replicas: list, add, remove (passwords in the OS keychain or an option file)
  schedule   backups that run by themselves: set, list, remove; install the OS timer
  run-due    back up every scheduled profile that is due (what the OS timer runs)
  prune      delete the archives a retention policy does not keep
  history    every backup run: the backup's result and its proof's, with the reason
  list       every replica's archives in a bucket or folder (the fleet catalogue)

The password comes from QUIESCE_PASSWORD, a profile (--profile: the keychain, an option file, or
none), an option file's [client] group (--option-file ~/.my.cnf) or a prompt — never from the
command line. On a server without a keychain, see \`quiesce profiles --help\`.
Exit status: 0 success; 1 failure (one line on stderr says why); 2 wrong usage.`;

const COMMANDS: Record<string, { run: (argv: string[], r: Reporter, interrupts: Interrupts) => Promise<number>; help: string }> = {
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  backup: { run: backupCommand, help: BACKUP_HELP },
  verify: { run: verifyCommand, help: VERIFY_HELP },
  restore: { run: restoreCommand, help: RESTORE_HELP },
  recover: { run: recoverCommand, help: RECOVER_HELP },
  profiles: { run: profilesCommand, help: PROFILES_HELP },
  schedule: { run: scheduleCommand, help: SCHEDULE_HELP },
  'run-due': { run: runDueCommand, help: RUN_DUE_HELP },
  prune: { run: pruneCommand, help: PRUNE_HELP },
  history: { run: historyCommand, help: HISTORY_HELP },
  list: { run: listCommand, help: LIST_HELP },
  binlogs: { run: binlogsCommand, help: BINLOGS_HELP },
  agent: { run: agentCommand, help: AGENT_HELP },
  job: { run: jobCommand, help: JOB_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${HELP}\n`);
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${TOOL_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  const reporter: Reporter = rest.includes('--json') ? new JsonReporter(process.stdout, process.stderr, process.env.QUIESCE_JOB_DIR !== undefined) : new TextReporter();
  if (!command) {
    reporter.error(`unknown command '${name}'. Commands: ${Object.keys(COMMANDS).join(', ')}.`, 'usage');
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  const interrupts = new Interrupts(reporter);
  try {
    refusePasswordFlag(rest);
    const status = await command.run(rest, reporter, interrupts);
    return status === 0 ? 0 : (interrupts.exitCode ?? status);
  } catch (error) {
    if (interrupts.exitCode !== null) {
      reporter.error(error instanceof QuiesceError ? (error.hint ? `${error.message} ${error.hint}` : error.message) : String((error as Error).message), error instanceof QuiesceError ? error.code : 'cancelled');
      return interrupts.exitCode;
    }
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      reporter.error(error.message, 'usage');
      return 2;
    }
    if (error instanceof QuiesceError) {
      reporter.error(error.hint ? `${error.message} ${error.hint}` : error.message, error.code);
      return 1;
    }
    if (error instanceof Error && 'sqlMessage' in error && typeof error.sqlMessage === 'string') {
      // a statement the server refused (often a privilege the account lacks): its own words
      reporter.error(`The server refused a statement: ${error.sqlMessage}. Grant what it names, or use an account that has it.`, 'server-refused');
      return 1;
    }
    // no stack trace for a user: one line, and where the details are
    const where = await logUnexpected(name, error);
    reporter.error(`unexpected failure: ${error instanceof Error ? error.message : String(error)}${where ? ` (details: ${where})` : ''}. Please report it.`, 'internal');
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
