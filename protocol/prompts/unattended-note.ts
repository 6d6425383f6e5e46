import { flagsRoot, sessionLabel } from '../layout.js';

/**
 * The note every managed agent gets beside its prompt (Claude: the appended system prompt; Codex:
 * ahead of the prompt): it runs unattended, what it must write, and that a question is never the
 * way to end a turn. The adapters call this; the text lives here, beside the prompts.
 */

export interface UnattendedNoteInput {
  role: 'EXECUTOR' | 'SUPERVISOR' | 'REVIEWER';
  /** The agent's token (`CODEX`). */
  agent: string;
  session: number;
  /** Root-relative files the run must leave; the first is its main artifact. */
  mustWrite: readonly string[];
}

/** What to write instead of asking, per role: the status each artifact can carry (docs/protocol.md#layout). */
const INSTEAD: Readonly<Record<UnattendedNoteInput['role'], (file: string) => string>> = {
  EXECUTOR: (file) =>
    `still write them: ${file} with the header line \`status: ABSTAIN\` and, under ## Failures Or Surprises, what stopped you`,
  REVIEWER: (file) =>
    `still write ${file} with \`status: BLOCKED\` (you could not review) or \`status: ABSTAIN\` (you chose not to) and the reason in \`blocked_reason:\``,
  SUPERVISOR: (file) =>
    `still write ${file}: the class you judge best from what you could check, and what you could not check in \`reason:\``,
};

export function renderUnattendedNote(input: UnattendedNoteInput): string {
  const files = input.mustWrite.length ? input.mustWrite : ['your artifact'];
  const list = files.length === 1 ? files[0]! : `${files.slice(0, -1).join(', ')} and ${files.at(-1)!}`;
  return [
    `You run unattended as ${input.agent}, the ${input.role} of session ${sessionLabel(input.session)} of a loop-station loop: nobody reads this conversation while it runs, and nobody will answer a question.`,
    `Before you end your turn, write ${list} (paths relative to the working directory, the loop root).`,
    'Never end your turn with a question or a request for confirmation: decide yourself and go on.',
    `If you cannot do the task, ${INSTEAD[input.role](files[0]!)}; then stop.`,
    `Never write under ${flagsRoot}/: the engine writes every flag.`,
  ].join(' ');
}
