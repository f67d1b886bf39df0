import { describe, expect, it } from 'vitest';
import { detectControl, specOfChoice } from '../../electron/core/server/choose-control.js';
import { controlFrom } from '../../electron/cli/options.js';
import { startCommand, stopCommand } from '../../electron/core/server/control-spec.js';
import { systemdUnitFromCgroup, type ServerProcessInfo } from '../../electron/core/server/process-info.js';

const proc = (over: Partial<ServerProcessInfo> = {}): ServerProcessInfo => ({
  pid: 4242,
  argv: ['/usr/sbin/mariadbd', '--defaults-file=/etc/my.cnf'],
  cwd: '/var/lib/mysql',
  parent: { pid: 1, argv: ['/sbin/init'], cwd: '/' },
  systemdUnit: null,
  ...over,
});

describe('how the server is stopped and started again', () => {
  it('a server run by hand is started again with its own command line, in its own cwd, and stopped by SQL SHUTDOWN', async () => {
    const spec = await detectControl(proc(), async () => null);
    expect(spec).toEqual({ kind: 'command-line', argv: ['/usr/sbin/mariadbd', '--defaults-file=/etc/my.cnf'], cwd: '/var/lib/mysql' });
    expect(startCommand(spec)).toEqual({ program: '/usr/sbin/mariadbd', args: ['--defaults-file=/etc/my.cnf'], cwd: '/var/lib/mysql', mode: 'daemon' });
    expect(stopCommand(spec)).toBeNull();
  });

  it('under mysqld_safe, mysqld_safe is started again', async () => {
    const spec = await detectControl(proc({ parent: { pid: 4000, argv: ['/bin/sh', '/usr/bin/mysqld_safe', '--datadir=/d'], cwd: '/usr' } }), async () => null);
    expect(spec).toEqual({ kind: 'mysqld_safe', argv: ['/bin/sh', '/usr/bin/mysqld_safe', '--datadir=/d'], cwd: '/usr' });
  });

  it('a systemd unit is used only when systemd says the server is its main process', async () => {
    const inUnit = proc({ systemdUnit: 'mariadb.service' });
    expect(await detectControl(inUnit, async () => 4242)).toEqual({ kind: 'systemd', unit: 'mariadb.service', user: false });
    // merely inside some service's cgroup (a CI runner, a tmux unit): never stop that unit
    expect((await detectControl(inUnit, async () => 999)).kind).toBe('command-line');
  });

  it('reads the unit from /proc/PID/cgroup (v1 and v2), ignoring scopes and user managers', () => {
    expect(systemdUnitFromCgroup('0::/system.slice/mariadb.service\n')).toBe('mariadb.service');
    expect(systemdUnitFromCgroup('12:pids:/x\n1:name=systemd:/system.slice/mysql.service\n')).toBe('mysql.service');
    expect(systemdUnitFromCgroup('0::/user.slice/user-1000.slice/session-3.scope\n')).toBeNull();
    expect(systemdUnitFromCgroup('0::/user.slice/user-1000.slice/user@1000.service\n')).toBeNull();
  });

  it('builds the platform service commands (not runnable on this machine)', () => {
    const win = specOfChoice({ kind: 'service', name: 'MySQL80' }, 'win32')!;
    expect(startCommand(win)).toEqual({ program: 'net', args: ['start', 'MySQL80'], mode: 'runs-to-end' });
    expect(stopCommand(win)).toEqual({ program: 'net', args: ['stop', 'MySQL80'], mode: 'runs-to-end' });
    const brew = specOfChoice({ kind: 'service', name: 'mysql@8.4' }, 'darwin')!;
    expect(startCommand(brew)).toEqual({ program: 'brew', args: ['services', 'start', 'mysql@8.4'], mode: 'runs-to-end' });
    expect(stopCommand(brew)).toEqual({ program: 'brew', args: ['services', 'stop', 'mysql@8.4'], mode: 'runs-to-end' });
    const launchd = specOfChoice({ kind: 'launchd', label: 'com.oracle.oss.mysql.mysqld', plist: '/Library/LaunchDaemons/com.oracle.oss.mysql.mysqld.plist', domain: 'system' })!;
    expect(startCommand(launchd).args).toEqual(['bootstrap', 'system', '/Library/LaunchDaemons/com.oracle.oss.mysql.mysqld.plist']);
    expect(stopCommand(launchd)!.args).toEqual(['bootout', 'system/com.oracle.oss.mysql.mysqld']);
    const unit = specOfChoice({ kind: 'service', name: 'mariadb' }, 'linux')!;
    expect(startCommand(unit)).toEqual({ program: 'systemctl', args: ['start', 'mariadb.service'], mode: 'runs-to-end' });
  });

  it('explicit commands win over detection, flags over the profile, and a stop command alone is refused', () => {
    const custom = specOfChoice(controlFrom({ service: 'mariadb', 'start-command': 'sudo service mysql start', 'stop-command': 'sudo service mysql stop' })!, 'linux')!;
    expect(startCommand(custom)).toEqual({ program: '/bin/sh', args: ['-c', 'sudo service mysql start'], mode: 'either' });
    expect(stopCommand(custom)).toEqual({ program: '/bin/sh', args: ['-c', 'sudo service mysql stop'], mode: 'runs-to-end' });
    expect(() => controlFrom({ 'stop-command': 'x' })).toThrow(/needs a --start-command/);
    expect(controlFrom({})).toBeNull();
    expect(specOfChoice({ kind: 'auto' })).toBeNull();
  });
});
