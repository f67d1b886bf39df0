import type { z } from 'zod';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * JSON text checked against a schema, as both ends of the worker's socket read each other:
 * the reason names the first field that does not fit and never echoes the content.
 */
export function parseJson<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = schema.safeParse(data);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `invalid message: ${issue.path.join('.') || 'message'}: ${issue.message}` };
}
