import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that take a minute or more, mostly waiting (server timeouts after a SIGKILL, npm pack and
 * install), longest first. A clean clone has no record of past durations, and vitest then starts
 * the largest files first: these small ones ran last, and the run ended with one of its workers idle
 * while they waited. Started first, their waits overlap the other files' work.
 */
const START_FIRST = ['test/chaos.test.ts', 'test/package.test.ts'];

const rank = (spec: TestSpecification) => {
  const at = START_FIRST.findIndex((file) => spec.moduleId.endsWith(file));
  return at < 0 ? START_FIRST.length : at;
};

export default class LongWaitsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
