import type { LoopConfig } from '../protocol/schemas/loop-config.js';
import type { Notification, NotifyEvent } from '../protocol/schemas/notification.js';
import { notifySteps } from './proxies.js';

/** What an event adds to the loop's view: the session it is about, a value, a decision, a stop reason. */
export type NotificationDetails = Partial<Pick<Notification, 'value' | 'decision' | 'stopReason' | 'session'>>;

/**
 * The loop's notifications (spec `notify:`). They never stall or fail the loop: each is sent beside
 * it, one after another so receivers see events in the order they happened, and a notifier that
 * keeps failing becomes a notice in the status (carried across continue-as-new).
 */
export class LoopNotifier {
  readonly notices: string[];
  private sent: Promise<void> = Promise.resolve();
  private readonly steps: ReturnType<typeof notifySteps>;

  constructor(
    private readonly config: LoopConfig,
    private readonly loopId: string,
    localFiles: boolean,
    carried: readonly string[],
    /** The loop's session and best now, for the notification body. */
    private readonly view: () => { session: number; best: number | null },
    /** Called when a failure adds a notice (the status card shows it). */
    private readonly onNotice: () => void,
  ) {
    this.notices = [...carried];
    this.steps = notifySteps(localFiles, config);
  }

  /** Queues one event, if the spec asks for it. */
  announce(event: NotifyEvent, message: string, details: NotificationDetails = {}): void {
    const spec = this.config.notify;
    if (!spec || (spec.events && !spec.events.includes(event))) return;
    const { session, best } = this.view();
    const body: Notification = {
      event,
      loop: this.loopId,
      name: this.config.name,
      session: details.session ?? session,
      at: new Date().toISOString(),
      message,
      metric: this.config.evidence.metric,
      value: details.value ?? null,
      best,
      decision: details.decision ?? null,
      stopReason: details.stopReason ?? null,
    };
    this.sent = this.sent
      .then(() => this.steps.notify({ notify: spec, root: this.config.root, event: body, env: this.config.env }))
      .catch((error: unknown) => {
        this.notices.push(
          `${event} notification failed: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}`,
        );
        this.onNotice();
      });
  }

  /** Resolves once every queued event went out or failed. */
  allSent(): Promise<void> {
    return this.sent;
  }
}
