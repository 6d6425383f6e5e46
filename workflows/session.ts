import { SessionRun } from './session-run.js';
import type { SessionInput, SessionOutput } from './session-state.js';

/**
 * One session's lifecycle, in the protocol's canonical order: each flag is written only after its
 * gate holds, and the next session cannot start before this workflow returns, which it does right
 * after SUPERVISOR-DONE. State and steps live in SessionRun (session-run.ts).
 */
export async function sessionWorkflow(input: SessionInput): Promise<SessionOutput> {
  const s = new SessionRun(input);
  s.listen();
  s.watchWallClock();
  await s.open();
  const run = await s.runExecutor();
  const executor = await s.finishExecutor(run);
  const { evidence, notOpened } = await s.selfReview(executor);
  const gate = await s.review(notOpened);
  await s.checkWorkspace();
  const decided = await s.decide(run, executor, evidence, gate);
  return s.close(executor, evidence, gate, decided);
}
