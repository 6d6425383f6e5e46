import { renderUnattendedNote, type UnattendedNoteInput } from '../../protocol/prompts/unattended-note.js';
import type { ImageSelection } from './images.js';

const list = (paths: readonly string[]) => paths.join(', ');

/**
 * The note every managed agent (codex, claude; every role) gets: its wording is
 * protocol/prompts/unattended-note.ts, beside the role prompts; the adapter adds what only it knows.
 * Claude Code gets it appended to its system prompt, Codex before the prompt.
 */

export interface AdapterNoteInput extends UnattendedNoteInput {
  /** How images reach the model: attached to the prompt (Codex), or as paths to open (Claude Code). */
  images?: { selection: ImageSelection; attached: boolean; root: string } | null;
  /** The agent cannot write files (a read-only sandbox): its final message becomes `mustWrite[0]`. */
  finalMessageIsOutput?: boolean;
}

/** The unattended note, and what only the adapter knows: the images shown, a read-only sandbox. */
export function unattendedNote(input: AdapterNoteInput): string {
  const lines = [renderUnattendedNote(input)];
  if (input.finalMessageIsOutput)
    lines.push(
      `Your sandbox is read-only, so you cannot write ${input.mustWrite[0]}: end with a final message that is its complete content; the engine writes it there.`,
    );
  const images = input.images;
  if (images && images.selection.attached.length > 0)
    lines.push(
      images.attached
        ? `Images attached to this prompt: ${list(images.selection.attached)}.`
        : `Images to look at, open each with your Read tool: ${list(images.selection.attached.map((p) => `${images.root}/${p}`))}.`,
    );
  if (images && images.selection.omitted.length > 0)
    lines.push(
      `Images left out (${images.selection.omitted.map((o) => `${o.path}: ${o.reason}`).join('; ')}); open one yourself only if you must.`,
    );
  return lines.join(' ');
}

/** The one follow-up turn of a run that stopped without its files, in the same thread. */
export function nudgePrompt(missing: readonly string[]): string {
  const files = list(missing);
  return `You stopped without writing ${files}; finish the task. Nobody will answer questions: write ${files} now. If you cannot finish, still write ${files}, with status ABSTAIN or BLOCKED and the reason.`;
}
