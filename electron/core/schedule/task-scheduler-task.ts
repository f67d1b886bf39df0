import path from 'node:path';
import type { ScheduleWhen } from '../../shared/schedule.js';
import type { TimerPlan, TimerRequest } from './timer-plan.js';

const TASK_NAME = '\\Quiesce\\run-due';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const DAY_ELEMENT = { sun: 'Sunday', mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday' } as const;

/** Windows' own command-line quoting (CommandLineToArgvW): quotes, backslashes before a quote doubled. */
export function windowsQuote(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return `"${arg.replace(/(\\*)"/g, '$1$1\\"').replace(/(\\+)$/, '$1$1')}"`;
}

function trigger(when: ScheduleWhen): string {
  // the boundary's date is only where the calendar starts counting; its time is the slot
  const at = when.kind === 'every' ? '00:00' : when.at;
  const start = `<StartBoundary>2026-01-01T${at}:00</StartBoundary>`;
  if (when.kind === 'weekly') {
    return `    <CalendarTrigger>${start}<ScheduleByWeek><WeeksInterval>1</WeeksInterval><DaysOfWeek><${DAY_ELEMENT[when.day]} /></DaysOfWeek></ScheduleByWeek></CalendarTrigger>`;
  }
  const repeat = when.kind === 'every' && when.hours < 24 ? `<Repetition><Interval>PT${when.hours}H</Interval><Duration>P1D</Duration></Repetition>` : '';
  return `    <CalendarTrigger>${repeat}${start}<ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay></CalendarTrigger>`;
}

/**
 * A Task Scheduler task at every scheduled slot. `StartWhenAvailable` runs a slot missed while
 * the machine was off as soon as it can; `IgnoreNew` never starts a second run-due beside a
 * running one; no time limit (a backup takes what it takes). Task Scheduler cannot set
 * environment variables: QUIESCE_* settings are passed through `cmd /c set …&&`.
 */
export function taskSchedulerTask(r: TimerRequest, configDir: string): TimerPlan {
  const [program, ...args] = r.command as [string, ...string[]];
  const env = Object.entries(r.env);
  const exec = env.length
    ? { command: 'cmd.exe', arguments: `/d /c "${env.map(([k, v]) => `set "${k}=${v}"&&`).join('')}${[program, ...args].map(windowsQuote).join(' ')}"` }
    : { command: program, arguments: args.map(windowsQuote).join(' ') };
  const triggers = [...new Set(r.schedules.map(trigger))];
  // the binary logs' cadence: from midnight, every N minutes all day
  if (r.everyMinutes) triggers.push(`    <CalendarTrigger><Repetition><Interval>PT${r.everyMinutes}M</Interval><Duration>P1D</Duration></Repetition><StartBoundary>2026-01-01T00:00:00</StartBoundary><ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay></CalendarTrigger>`);
  const text = [
    '<?xml version="1.0" encoding="UTF-16"?>',
    '<Task version="1.4" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">',
    '  <RegistrationInfo>',
    '    <Description>Quiesce: back up the replicas whose schedule is due</Description>',
    `    <URI>${xml(TASK_NAME)}</URI>`,
    '  </RegistrationInfo>',
    '  <Triggers>',
    ...triggers,
    // also at start-up (as SYSTEM) or logon: brings back a replica whose backup a power cut stopped
    r.system ? '    <BootTrigger><Delay>PT2M</Delay></BootTrigger>' : '    <LogonTrigger><Delay>PT2M</Delay></LogonTrigger>',
    '  </Triggers>',
    '  <Principals>',
    `    <Principal id="Author">${r.system ? '<UserId>S-1-5-18</UserId>' : '<LogonType>InteractiveToken</LogonType>'}<RunLevel>HighestAvailable</RunLevel></Principal>`,
    '  </Principals>',
    '  <Settings>',
    '    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>',
    '    <StartWhenAvailable>true</StartWhenAvailable>',
    '    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>',
    '    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>',
    '    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>',
    '    <Enabled>true</Enabled>',
    '  </Settings>',
    '  <Actions Context="Author">',
    '    <Exec>',
    `      <Command>${xml(exec.command)}</Command>`,
    `      <Arguments>${xml(exec.arguments)}</Arguments>`,
    '    </Exec>',
    '  </Actions>',
    '</Task>',
    '',
  ].join('\r\n');
  const file = path.join(configDir, 'quiesce-run-due.task.xml');
  // schtasks reads the XML as it declares itself: UTF-16, with its byte-order mark
  const content = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  return {
    kind: 'task-scheduler',
    summary: `Task Scheduler task ${TASK_NAME}: ${triggers.length} trigger(s)${r.system ? ', as SYSTEM' : ', while you are logged on'}`,
    files: [{ path: file, content }],
    enable: [['schtasks', '/Create', '/TN', TASK_NAME, '/XML', file, '/F']],
    disable: [['schtasks', '/Delete', '/TN', TASK_NAME, '/F']],
    notes: r.system ? [] : ['The task runs while you are logged on (the keychain needs your session); a slot missed meanwhile runs at your next logon.'],
  };
}
