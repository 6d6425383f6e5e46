import { execa } from 'execa';
import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { Notification } from '../protocol/schemas/notification.js';
import { allowedEnvironment } from './agents/environment.js';

const WEBHOOK_TIMEOUT_MS = 5000;
const COMMAND_TIMEOUT_MS = 10_000;

export interface NotifyInput {
  notify: NonNullable<LoopConfig['notify']>;
  root: string;
  event: Notification;
  /** The spec's `env:` names: with the base names, all the command sees of the worker's environment. */
  env?: readonly string[];
}

/**
 * Sends one loop event to the spec's webhook (JSON POST) and/or command (JSON on stdin). Throws on
 * failure so Temporal retries it; the workflow records a notifier that keeps failing and moves on.
 */
export async function notify(input: NotifyInput): Promise<void> {
  const body = JSON.stringify(input.event);
  const failures: string[] = [];
  if (input.notify.webhook) {
    try {
      const res = await fetch(input.notify.webhook, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      if (!res.ok) failures.push(`webhook answered HTTP ${res.status}`);
    } catch (error) {
      failures.push(`webhook: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (input.notify.command) {
    const result = await execa(input.notify.command, {
      shell: true,
      cwd: input.root,
      input: body,
      timeout: COMMAND_TIMEOUT_MS,
      reject: false,
      stdout: 'ignore',
      stderr: 'pipe',
      // Like an agent, the command gets only what the spec allows: the worker's other variables may be keys.
      env: allowedEnvironment(input.env ?? []),
      extendEnv: false,
    });
    if (result.failed) failures.push(`command: ${result.shortMessage}`);
  }
  if (failures.length) throw new Error(`notifier failed for ${input.event.event}: ${failures.join('; ')}`);
}
