import { describe, expect, it } from 'vitest';
import { elevatedLaunch, elevationReason } from '../../electron/core/elevation/elevated-launch.js';

describe('elevating the worker (commands built here, not run)', () => {
  it('pkexec on Linux keeps ELECTRON_RUN_AS_NODE through its cleared environment', () => {
    expect(elevatedLaunch('linux', '/opt/Quiesce/quiesce', '/opt/Quiesce/resources/worker.js', '/tmp/q/init.json')).toEqual({
      program: 'pkexec',
      args: ['env', 'ELECTRON_RUN_AS_NODE=1', '/opt/Quiesce/quiesce', '/opt/Quiesce/resources/worker.js', '--init-file', '/tmp/q/init.json'],
    });
  });

  it('the macOS administrator prompt, with paths quoted for the shell', () => {
    const launch = elevatedLaunch('darwin', '/Applications/Quiesce.app/Contents/MacOS/Quiesce', "/Users/o'neil/w.js", '/tmp/i.json');
    expect(launch.program).toBe('osascript');
    expect(launch.args[1]).toBe(
      `do shell script "ELECTRON_RUN_AS_NODE=1 '/Applications/Quiesce.app/Contents/MacOS/Quiesce' '/Users/o'\\\\''neil/w.js' '--init-file' '/tmp/i.json' > /dev/null 2>&1 &" with administrator privileges`,
    );
  });

  it('UAC on Windows through Start-Process -Verb RunAs', () => {
    const launch = elevatedLaunch('win32', 'C:\\Program Files\\Quiesce\\Quiesce.exe', 'C:\\Program Files\\Quiesce\\resources\\worker.js', 'C:\\Users\\me\\AppData\\Local\\Temp\\init.json');
    expect(launch.program).toBe('powershell.exe');
    expect(launch.args.at(-1)).toBe(
      "$env:ELECTRON_RUN_AS_NODE='1'; Start-Process -FilePath 'C:\\Program Files\\Quiesce\\Quiesce.exe' -ArgumentList 'C:\\Program Files\\Quiesce\\resources\\worker.js','--init-file','C:\\Users\\me\\AppData\\Local\\Temp\\init.json' -Verb RunAs -WindowStyle Hidden",
    );
  });

  it('is asked for only when needed', async () => {
    const readable = [{ component: 'datadir', relPath: 'x', absPath: '/etc/hostname', type: 'file' as const, size: 1, mode: 0o644, mtimeMs: 0 }];
    const unreadable = [{ ...readable[0]!, absPath: '/nonexistent/ibdata1' }];
    const byHand = { kind: 'command-line' as const, argv: ['mariadbd'], cwd: '/' };
    expect(await elevationReason({ entries: readable, control: byHand, uid: 1000 })).toBeNull();
    expect(await elevationReason({ entries: unreadable, control: byHand, uid: 1000 })).toMatch(/cannot read \/nonexistent\/ibdata1/);
    expect(await elevationReason({ entries: readable, control: { kind: 'systemd', unit: 'mariadb.service', user: false }, uid: 1000 })).toMatch(/administrator/);
    expect(await elevationReason({ entries: unreadable, control: byHand, uid: 0 })).toBeNull();
  });
});
