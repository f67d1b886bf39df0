/** What time it is for schedules and history: the real time, or (tests) one set with QUIESCE_NOW that runs on from there. */
export type Clock = () => Date;

export function systemClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const set = env.QUIESCE_NOW ? Date.parse(env.QUIESCE_NOW) : NaN;
  if (Number.isNaN(set)) return () => new Date();
  const began = Date.now();
  return () => new Date(set + (Date.now() - began));
}
