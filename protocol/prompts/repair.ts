import { DECISION_CLASSES } from '../vocabulary.js';

/**
 * The one repair turn an agent supervisor gets when its decision block has no valid class
 * (docs/architecture.md#agent-failures): the parse error and what a valid block needs. In the same
 * thread it is the whole prompt; a supervisor without a thread gets it after its task.
 */
export function renderDecisionRepairPrompt(input: {
  decisionPath: string;
  error: string;
  task: string | null;
}): string {
  const lines = [
    `Your decision could not be read: ${input.error}.`,
    `Rewrite ${input.decisionPath} so it opens with a fenced block whose info string is loop-station-decision, with a line \`class: <class>\`, the class one of ${DECISION_CLASSES.join(', ')}; keep your other keys and sections. Do not ask questions; write the file.`,
  ];
  return input.task ? `${input.task}\n---\n\n${lines.join('\n')}\n` : `${lines.join('\n')}\n`;
}
