import { z } from 'zod';
import { ContractSchema } from './schemas/contract.js';
import { FindingSchema } from './schemas/finding.js';
import { FlagBodySchema } from './schemas/flag-body.js';
import { FlagNameTextSchema } from './schemas/flag-name.js';
import { LeaderboardRowSchema } from './schemas/leaderboard.js';
import { LoopSpecSchema } from './schemas/loop-spec.js';
import { ReviewRecordTextSchema } from './schemas/review-flags.js';
import { SessionLedgerRowSchema } from './schemas/session-ledger.js';
import { DecisionBlockSchema, EvidenceResultSchema } from './schemas/state.js';
import { ValidateReportSchema } from './schemas/validate-report.js';
import { RestoreManifestSchema, VariantManifestSchema } from './schemas/variant-manifest.js';

/** The committed `schemas/*.schema.json`: one list for `npm run schemas` and the test that pins them. */

const SCHEMAS: readonly { file: string; schema: z.ZodType; io?: 'input' | 'output'; title: string }[] = [
  // Input side for the loop spec: fields with defaults are optional to the person writing it.
  { file: 'loop-spec.schema.json', schema: LoopSpecSchema, io: 'input', title: 'loop-station loop spec' },
  { file: 'contract.schema.json', schema: ContractSchema, title: 'loop_station/contract.json' },
  // Input side for the codecs: the text with its grammar as `pattern`.
  { file: 'flag-name.schema.json', schema: FlagNameTextSchema, io: 'input', title: 'flag file name' },
  { file: 'flag-body.schema.json', schema: FlagBodySchema, title: 'flag body (parsed key: value lines)' },
  { file: 'review-record.schema.json', schema: ReviewRecordTextSchema, io: 'input', title: 'review_flags.md record' },
  { file: 'decision-block.schema.json', schema: DecisionBlockSchema, title: 'decision.md loop-station-decision block' },
  { file: 'leaderboard-row.schema.json', schema: LeaderboardRowSchema, title: 'leaderboard.csv row' },
  {
    file: 'session-ledger-row.schema.json',
    schema: SessionLedgerRowSchema,
    title: 'summaries/SESSION_LEDGER.md row (parsed table cells)',
  },
  { file: 'metrics.schema.json', schema: EvidenceResultSchema, title: 'sessions/session_NNN/metrics.json' },
  { file: 'variant-manifest.schema.json', schema: VariantManifestSchema, title: 'code_variants manifest.json' },
  { file: 'restore-manifest.schema.json', schema: RestoreManifestSchema, title: 'restore_manifest.json' },
  { file: 'finding.schema.json', schema: FindingSchema, title: 'validate finding' },
  { file: 'validate-report.schema.json', schema: ValidateReportSchema, title: 'loop-station validate --json' },
];

/** File name → JSON text (two-space indent, final newline). */
export function renderJsonSchemas(): Map<string, string> {
  return new Map(
    SCHEMAS.map(({ file, schema, io, title }) => {
      const { $schema, ...rest } = z.toJSONSchema(schema, { io: io ?? 'output', unrepresentable: 'any' });
      const json = { $schema, title, ...rest };
      return [file, `${JSON.stringify(json, null, 2)}\n`];
    }),
  );
}
