import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TOOL_VERSION } from '../../electron/core/version.js';
import { connectionFrom, portFrom, refusePasswordFlag } from '../../electron/cli/options.js';
import { runCli } from '../helpers/cli.js';

describe('the quiesce command line', () => {
  it('stamps archives with the package version', () => {
    expect(TOOL_VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('refuses a password on the command line, in every spelling', () => {
    for (const argv of [['-p'], ['--password'], ['--password=x'], ['-pSecret']]) {
      expect(() => refusePasswordFlag(argv)).toThrow(/not taken on the command line/);
    }
    expect(() => refusePasswordFlag(['--port', '3306'])).not.toThrow();
  });

  it('says how to reach the replica when neither socket nor host is given, and checks the port', async () => {
    await expect(connectionFrom({ user: 'u' })).rejects.toThrow(/--socket PATH, or --host HOST --port PORT/);
    expect(() => portFrom('abc')).toThrow(/TCP port number/);
    expect(() => portFrom('70000')).toThrow(/TCP port number/);
    expect(portFrom('3307')).toBe(3307);
  });

  it('prints help, exits 2 on an unknown command, and explains a missing destination', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/backup\s+back a replica up: cold \(stop, copy, start; the default\), dump, or read-only/);
    const unknown = await runCli(['bakup']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'bakup'/);
    const noDest = await runCli(['backup', '--socket', '/nowhere.sock']);
    expect(noDest.code).toBe(2);
    expect(noDest.stderr).toMatch(/--dest DIR/);
    const missing = await runCli(['verify', '/no/such/archive.tar.zst', '--json']);
    expect(missing.code).toBe(1);
    expect(missing.lines.at(-1)).toMatchObject({ type: 'error', code: 'archive-missing' });
  });
});
