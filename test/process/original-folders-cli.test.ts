import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ValidateReportSchema } from '../../protocol/schemas/validate-report.js';
import { cli, run } from '../helpers/cli.js';
import { CASES, CORPUS, expectedOf, verdictProblems } from '../helpers/original-folders.js';

/** The corpus cases marked `cli` through `loop-station validate <dir> --json`, in a far time zone. */

describe('folders written from the original templates, through the CLI', () => {
  test.for(CASES.filter((name) => expectedOf(name).cli))(
    'loop-station validate %s --json agrees, in any time zone',
    async (name) => {
      // A far zone: a time written without one must not be read in the machine's zone.
      const r = await run(process.execPath, cli(['validate', join(CORPUS, name), '--json']), {
        env: { TZ: 'Pacific/Kiritimati' },
      });
      const report = ValidateReportSchema.parse(JSON.parse(r.stdout));
      const expected = expectedOf(name);
      expect({
        code: r.code,
        mode: report.mode,
        ok: report.ok,
        problems: verdictProblems(report.findings, expected),
      }).toEqual({ code: expected.ok ? 0 : 1, mode: 'original', ok: expected.ok, problems: [] });
    },
  );
});
