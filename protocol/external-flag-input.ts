/**
 * ExternalFlagInputSchema's rule (protocol/schemas/messages.ts) without zod: the loop checks every
 * flag signal, and workflows load zod only for human messages (workflows/message-schemas.ts says
 * why). protocol/external-flag-input.test.ts keeps the two in agreement.
 */
export function externalFlagProblem(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return 'the payload must be an object {file, session?}';
  const extra = Object.keys(raw).filter((k) => k !== 'file' && k !== 'session');
  if (extra.length) return `unknown field${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`;
  const { file, session } = raw as { file?: unknown; session?: unknown };
  if (typeof file !== 'string' || file.length < 1 || file.length > 256)
    return 'file must be a flag file name of 1 to 256 characters';
  if (session !== undefined && !(typeof session === 'number' && Number.isInteger(session) && session > 0))
    return 'session must be a positive integer';
  return null;
}
