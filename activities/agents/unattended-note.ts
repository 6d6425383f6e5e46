import type { ImageSelection } from './images.js';
import type { RunAgentInput } from './run-agent.js';

/**
 * The note every managed agent (codex, claude; every role) gets: it runs unattended, what it must
 * write, never to ask. Claude Code gets it appended to its system prompt, Codex before the prompt.
 *
 * A local stand-in: the note's wording belongs with the role prompts (protocol/prompts/,
 * `renderUnattendedNote`); when that lands, this function calls it and keeps only the adapter's
 * own parts (images, a read-only sandbox).
 */
export interface UnattendedNoteInput {
  agent: string;
  role: RunAgentInput['role'];
  session: string;
  /** Root-relative files the run must leave. */
  mustWrite: readonly string[];
  /** How images reach the model: attached to the prompt (Codex), or as paths to open (Claude Code). */
  images?: { selection: ImageSelection; attached: boolean; root: string } | null;
  /** The agent cannot write files (a read-only sandbox): its final message becomes `mustWrite[0]`. */
  finalMessageIsOutput?: boolean;
}

const list = (paths: readonly string[]) => paths.join(', ');

export function unattendedNote(input: UnattendedNoteInput): string {
  const files = list(input.mustWrite);
  const lines = [
    `You run unattended as ${input.agent}, the ${input.role} of session ${input.session} of a loop-station loop; nobody will answer questions.`,
    input.finalMessageIsOutput
      ? `Your sandbox is read-only: end with a final message that is the complete content of ${files}; the engine writes it there.`
      : `Before you stop, write ${files} (relative to the working directory).`,
    `Never ask a question and never stop to wait for an answer: if you cannot do the task, still write ${files}, with status ABSTAIN or BLOCKED and the reason.`,
    'Never write under loop_station/flags/: the engine writes every flag.',
  ];
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
