import path from 'node:path';
import { WEEKDAYS } from '../../shared/schedule.js';
import { slotTimes, type TimerPlan, type TimerRequest } from './timer-plan.js';

const LAUNCHD_LABEL = 'com.quiesce.run-due';

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const str = (s: string) => `<string>${xml(s)}</string>`;
const int = (n: number) => `<integer>${n}</integer>`;

/**
 * A launchd job at every scheduled slot (StartCalendarInterval; Weekday 0 is Sunday). launchd
 * runs a slot missed during sleep at wake-up, but not one missed while the Mac was off:
 * `RunAtLoad` runs run-due at every load (boot or login), and run-due catches up what is due.
 * `AbandonProcessGroup`: a replica started by the backup's own start command must outlive it.
 */
export function launchdJob(r: TimerRequest, home: string): TimerPlan {
  const intervals = new Map<string, string>();
  for (const when of r.schedules) {
    for (const [hour, minute] of slotTimes(when)) {
      const weekday = when.kind === 'weekly' ? `<key>Weekday</key>${int(WEEKDAYS.indexOf(when.day))}` : '';
      const entry = `    <dict><key>Hour</key>${int(hour)}<key>Minute</key>${int(minute)}${weekday}</dict>`;
      intervals.set(entry, entry);
    }
  }
  // the binary logs' cadence: at these minutes of every hour
  for (let minute = 0; r.everyMinutes && minute < 60; minute += r.everyMinutes) {
    const entry = `    <dict><key>Minute</key>${int(minute)}</dict>`;
    intervals.set(entry, entry);
  }
  const env = Object.entries(r.env);
  const plist = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${str(LAUNCHD_LABEL)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...r.command.map((a) => `    ${str(a)}`),
    '  </array>',
    ...(env.length ? ['  <key>EnvironmentVariables</key>', '  <dict>', ...env.map(([k, v]) => `    <key>${xml(k)}</key>${str(v)}`), '  </dict>'] : []),
    '  <key>StartCalendarInterval</key>',
    '  <array>',
    ...intervals.values(),
    '  </array>',
    '  <key>RunAtLoad</key><true/>',
    '  <key>AbandonProcessGroup</key><true/>',
    `  <key>StandardOutPath</key>${str(r.logFile)}`,
    `  <key>StandardErrorPath</key>${str(r.logFile)}`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
  const file = r.system ? path.join('/Library/LaunchDaemons', `${LAUNCHD_LABEL}.plist`) : path.join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const domain = r.system ? 'system' : `gui/${r.uid}`;
  return {
    kind: 'launchd',
    summary: `launchd ${r.system ? 'daemon' : 'agent'} ${LAUNCHD_LABEL}: ${intervals.size} time(s) a day or week, and at load`,
    files: [{ path: file, content: plist }],
    enable: [['launchctl', 'bootstrap', domain, file]],
    disable: [['launchctl', 'bootout', `${domain}/${LAUNCHD_LABEL}`]],
    notes: [],
  };
}
