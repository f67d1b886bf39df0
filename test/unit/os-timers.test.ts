import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchdJob } from '../../electron/core/schedule/launchd-job.js';
import { minutesCalendar, systemdCalendar, systemdTimer } from '../../electron/core/schedule/systemd-timer.js';
import { nextSlots } from '../../electron/core/schedule/slots.js';
import { taskSchedulerTask, windowsQuote } from '../../electron/core/schedule/task-scheduler-task.js';
import type { TimerRequest } from '../../electron/core/schedule/timer-plan.js';
import type { ScheduleWhen } from '../../electron/shared/schedule.js';

const schedules: ScheduleWhen[] = [
  { kind: 'daily', at: '03:00' },
  { kind: 'weekly', day: 'sun', at: '04:30' },
  { kind: 'every', hours: 6 },
];
const cli = path.resolve('out/cli/quiesce.js');
const request = (over: Partial<TimerRequest> = {}): TimerRequest => ({
  command: [process.execPath, cli, 'run-due'],
  schedules,
  everyMinutes: null,
  env: { QUIESCE_CONFIG_DIR: '/srv/quiesce conf/100% "real"' },
  system: false,
  logFile: '/var/log/quiesce/run-due.log',
  uid: 501,
  ...over,
});

/** python3's own parsers: what the platform's tools read, read by a parser we did not write. */
const python = (code: string, input: Buffer | string) => JSON.parse(execFileSync('python3', ['-c', code], { input }).toString());

describe('systemd timer (checked by systemd-analyze; systemd is not PID 1 here, so it cannot fire)', () => {
  it('verifies cleanly: the service runs the CLI with the settings, the timer fires at every slot and catches up', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-units-'));
    const plan = systemdTimer(request(), dir);
    for (const f of plan.files) writeFileSync(f.path, f.content);
    const verify = spawnSync('systemd-analyze', ['verify', ...plan.files.map((f) => f.path)], { encoding: 'utf8' });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    const service = readFileSync(path.join(dir, 'quiesce-run-due.service'), 'utf8');
    expect(service).toContain(`ExecStart="${process.execPath}" "${cli}" "run-due"`);
    // quoted the way systemd reads it: % doubled, quotes escaped
    expect(service).toContain('Environment="QUIESCE_CONFIG_DIR=/srv/quiesce conf/100%% \\"real\\""');
    expect(service).toContain('KillMode=process');
    // `$` is a variable only in ExecStart=: doubled there, kept as it is in Environment=
    const dollars = systemdTimer(request({ command: ['/opt/$app/node', cli, 'run-due'], env: { QUIESCE_STATE_DIR: '/srv/$state' } }), dir).files[0]!.content as string;
    expect(dollars).toContain('ExecStart="/opt/$$app/node"');
    expect(dollars).toContain('Environment="QUIESCE_STATE_DIR=/srv/$state"');
    const timer = readFileSync(path.join(dir, 'quiesce-run-due.timer'), 'utf8');
    expect(timer).toContain('Persistent=true'); // a slot missed while off fires at boot
    expect(timer).toContain('OnBootSec=2min'); // and run-due runs after every boot, to repair a killed backup
    expect(timer.match(/^OnCalendar=.*$/gm)).toEqual(['OnCalendar=*-*-* 03:00:00', 'OnCalendar=Sun *-*-* 04:30:00', 'OnCalendar=*-*-* 00/6:00:00']);
    expect(plan.enable).toEqual([['systemctl', '--user', 'daemon-reload'], ['systemctl', '--user', 'enable', '--now', 'quiesce-run-due.timer']]);
    expect(systemdTimer(request({ system: true }), dir).enable[0]).toEqual(['systemctl', 'daemon-reload']);
  });

  it('a broken unit is caught by the same check (the check can fail)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-units-'));
    const plan = systemdTimer(request({ command: ['/nonexistent/node', cli, 'run-due'] }), dir);
    for (const f of plan.files) writeFileSync(f.path, f.content);
    expect(spawnSync('systemd-analyze', ['verify', ...plan.files.map((f) => f.path)], { encoding: 'utf8' }).status).not.toBe(0);
  });

  it('each calendar expression elapses when Quiesce computes the next runs', () => {
    const iso = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');
    for (const when of [...schedules, { kind: 'weekly', day: 'wed', at: '23:59' } as const, { kind: 'every', hours: 24 } as const]) {
      const out = execFileSync('systemd-analyze', ['calendar', '--iterations=3', systemdCalendar(when)], { env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8' });
      const theirs = [...out.matchAll(/(?:Next elapse|Iter\. #\d): \w{3} (\S+ \S+) UTC/g)].map((m) => m[1]);
      const zone = process.env.TZ;
      process.env.TZ = 'UTC';
      try {
        expect(theirs, systemdCalendar(when)).toEqual(nextSlots(when, new Date(), 3).map(iso));
      } finally {
        process.env.TZ = zone;
      }
    }
  });
});

describe('the binary logs\' cadence, on every platform', () => {
  it('systemd: every N minutes of every hour, as systemd-analyze computes it; the units still verify', () => {
    expect(minutesCalendar(5)).toBe('*-*-* *:00/5:00');
    const out = execFileSync('systemd-analyze', ['calendar', '--iterations=3', minutesCalendar(20)], { env: { ...process.env, TZ: 'UTC' }, encoding: 'utf8' });
    const minutes = [...out.matchAll(/(?:Next elapse|Iter\. #\d): \w{3} \S+ \d{2}:(\d{2}):00 UTC/g)].map((m) => Number(m[1]));
    expect(minutes.every((m) => m % 20 === 0)).toBe(true);
    expect(minutes).toHaveLength(3);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'quiesce-units-'));
    const plan = systemdTimer(request({ everyMinutes: 5 }), dir);
    for (const f of plan.files) writeFileSync(f.path, f.content);
    expect(spawnSync('systemd-analyze', ['verify', ...plan.files.map((f) => f.path)], { encoding: 'utf8' }).status).toBe(0);
    expect(readFileSync(path.join(dir, 'quiesce-run-due.timer'), 'utf8')).toContain('OnCalendar=*-*-* *:00/5:00');
  });

  it('launchd: at those minutes of every hour; Task Scheduler: a daily trigger repeating every N minutes', () => {
    const plist = python('import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))', launchdJob(request({ schedules: [], everyMinutes: 15 }), '/Users/dba').files[0]!.content);
    expect(plist.StartCalendarInterval).toEqual([{ Minute: 0 }, { Minute: 15 }, { Minute: 30 }, { Minute: 45 }]);
    const task = taskSchedulerTask(request({ schedules: [], everyMinutes: 10, env: {} }), 'C:\\cfg').files[0]!.content as Buffer;
    const xmlText = task.toString('utf16le');
    expect(xmlText).toContain('<Repetition><Interval>PT10M</Interval><Duration>P1D</Duration></Repetition>');
  });
});

describe('launchd job (parsed as a property list)', () => {
  it('runs the CLI at every slot, at load (catch-up after power-off), and outlives nothing it started', () => {
    const plan = launchdJob(request(), '/Users/dba');
    expect(plan.files[0]!.path).toBe('/Users/dba/Library/LaunchAgents/com.quiesce.run-due.plist');
    const plist = python('import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))', plan.files[0]!.content);
    expect(plist.Label).toBe('com.quiesce.run-due');
    expect(plist.ProgramArguments).toEqual([process.execPath, cli, 'run-due']);
    expect(plist.EnvironmentVariables).toEqual({ QUIESCE_CONFIG_DIR: '/srv/quiesce conf/100% "real"' });
    expect(plist.RunAtLoad).toBe(true);
    expect(plist.AbandonProcessGroup).toBe(true);
    expect(plist.StartCalendarInterval).toEqual([
      { Hour: 3, Minute: 0 },
      { Hour: 4, Minute: 30, Weekday: 0 },
      { Hour: 0, Minute: 0 },
      { Hour: 6, Minute: 0 },
      { Hour: 12, Minute: 0 },
      { Hour: 18, Minute: 0 },
    ]);
    expect(plan.enable).toEqual([['launchctl', 'bootstrap', 'gui/501', plan.files[0]!.path]]);
    expect(launchdJob(request({ system: true }), '/Users/dba').disable).toEqual([['launchctl', 'bootout', 'system/com.quiesce.run-due']]);
  });
});

describe('Task Scheduler task (parsed as XML)', () => {
  const read = (content: string | Buffer) =>
    python(
      `import sys,json,xml.etree.ElementTree as E
ns={'t':'http://schemas.microsoft.com/windows/2004/02/mit/task'}
root=E.fromstring(sys.stdin.buffer.read().decode('utf-16'))
trig=[{'start':t.find('t:StartBoundary',ns).text,'kind':[c.tag.split('}')[1] for c in t if c.tag.split('}')[1].startswith('Schedule')][0],'repeat':(t.find('t:Repetition/t:Interval',ns).text if t.find('t:Repetition',ns) is not None else None),'days':[d.tag.split('}')[1] for d in t.findall('.//t:DaysOfWeek/*',ns)]} for t in root.findall('t:Triggers/t:CalendarTrigger',ns)]
s=root.find('t:Settings',ns)
print(json.dumps({'triggers':trig,'atStart':[c.tag.split('}')[1] for c in root.find('t:Triggers',ns) if not c.tag.endswith('CalendarTrigger')],'startWhenAvailable':s.find('t:StartWhenAvailable',ns).text,'multiple':s.find('t:MultipleInstancesPolicy',ns).text,'limit':s.find('t:ExecutionTimeLimit',ns).text,'command':root.find('.//t:Exec/t:Command',ns).text,'arguments':root.find('.//t:Exec/t:Arguments',ns).text}))`,
      content,
    );

  it('is UTF-16 XML that catches up missed runs, never runs twice at once, and has no time limit', () => {
    const plan = taskSchedulerTask(request({ command: ['C:\\Program Files\\Quiesce\\node.exe', 'C:\\Program Files\\Quiesce\\quiesce.js', 'run-due'], env: {} }), 'C:\\Users\\dba\\AppData\\Roaming\\Quiesce');
    const task = read(plan.files[0]!.content);
    expect(task.triggers).toEqual([
      { start: '2026-01-01T03:00:00', kind: 'ScheduleByDay', repeat: null, days: [] },
      { start: '2026-01-01T04:30:00', kind: 'ScheduleByWeek', repeat: null, days: ['Sunday'] },
      { start: '2026-01-01T00:00:00', kind: 'ScheduleByDay', repeat: 'PT6H', days: [] },
    ]);
    expect(task).toMatchObject({ startWhenAvailable: 'true', multiple: 'IgnoreNew', limit: 'PT0S', atStart: ['LogonTrigger'] });
    expect(read(taskSchedulerTask(request({ system: true, env: {} }), 'C:\\cfg').files[0]!.content).atStart).toEqual(['BootTrigger']);
    expect(task.command).toBe('C:\\Program Files\\Quiesce\\node.exe');
    expect(task.arguments).toBe('"C:\\Program Files\\Quiesce\\quiesce.js" run-due');
    expect(plan.enable[0]).toEqual(['schtasks', '/Create', '/TN', '\\Quiesce\\run-due', '/XML', plan.files[0]!.path, '/F']);
  });

  it('passes settings through cmd, and quotes arguments the way Windows splits them', () => {
    const task = read(taskSchedulerTask(request({ command: ['C:\\node.exe', 'C:\\q.js', 'run-due'], env: { QUIESCE_STATE_DIR: 'D:\\state & more' } }), 'C:\\cfg').files[0]!.content);
    expect(task.command).toBe('cmd.exe');
    expect(task.arguments).toBe('/d /c "set "QUIESCE_STATE_DIR=D:\\state & more"&&C:\\node.exe C:\\q.js run-due"');
    expect(windowsQuote('a b\\')).toBe('"a b\\\\"');
    expect(windowsQuote('say "hi"')).toBe('"say \\"hi\\""');
    expect(windowsQuote('plain')).toBe('plain');
  });
});
