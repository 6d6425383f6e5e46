import { DefaultLogger, type LogEntry } from '@temporalio/worker';

/** Expected on the `.io` worker, which serves activities only: not worth a warning at every start. */
const EXPECTED = ['No workflows registered, not polling for workflow tasks'];

/** The SDK's WARN-level logger on stderr, without the warnings loop-station's layout causes on purpose. */
export function workerLogger(): DefaultLogger {
  return new DefaultLogger('WARN', (entry: LogEntry) => {
    if (EXPECTED.some((m) => entry.message.startsWith(m))) return;
    const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
    const meta = entry.meta && Object.keys(entry.meta).length ? ` ${JSON.stringify(entry.meta)}` : '';
    process.stderr.write(`${time} [${entry.level}] ${entry.message}${meta}\n`);
  });
}
