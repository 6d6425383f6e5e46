import { access, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Downloaded, or the reason it was not, for the error's list of attempts. */
export type DownloadResult = { readonly path: string } | { readonly reason: string };

/** Fetches the pinned CLI into `downloadDir`; the SDK's download, or a fake in tests. */
export type Downloader = (version: string, downloadDir: string) => Promise<DownloadResult>;

export interface DownloadWatch {
  /** Nothing arrived in `downloadDir` this long after the start: offline, give up. @default 5_000 */
  readonly firstByteMs?: number;
  /** No new bytes this long once the download has started: stalled, give up. @default 30_000 */
  readonly stallMs?: number;
  /** @default 250 */
  readonly pollMs?: number;
}

/**
 * The Temporal SDK's download of the pinned CLI (the `cached-download` executable of
 * @temporalio/testing's local environment, which fetches and unpacks the release archive). The
 * SDK starts a dev server on the binary right away; only the downloaded file matters here, and a
 * failed start after a good download still counts as downloaded.
 */
export const downloadWithSdk: Downloader = async (version, downloadDir) => {
  const testing = await import('@temporalio/testing').catch(() => undefined);
  if (testing === undefined) return { reason: 'the @temporalio/testing package is not installed' };
  await mkdir(downloadDir, { recursive: true });
  // The SDK names a fixed-version download `temporal-v<version>` inside `downloadDir`.
  const path = join(downloadDir, `temporal-v${version}`);
  let startError: unknown;
  try {
    const env = await testing.TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir, version: `v${version}` } },
    });
    await env.teardown();
  } catch (error) {
    startError = error;
  }
  if (
    await access(path).then(
      () => true,
      () => false,
    )
  )
    return { path };
  const message = startError instanceof Error ? startError.message : String(startError);
  return { reason: `the SDK download failed: ${lastCause(message)}` };
};

/** The SDK's message nests the same cause several times; its last clause says what went wrong. */
function lastCause(message: string): string {
  const line = message.split('\n')[0] ?? message;
  const parts = line.split(': ').filter(Boolean);
  const tail = parts.slice(-3).join(': ');
  return tail.length > 0 ? tail : line;
}

/** Total size of the files under `dir` (0 when it does not exist). */
async function bytesUnder(dir: string): Promise<number> {
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  let total = 0;
  for (const name of names)
    total += await stat(join(dir, name)).then(
      (s) => (s.isFile() ? s.size : 0),
      () => 0,
    );
  return total;
}

/**
 * Runs `download`, giving up when nothing arrives in `downloadDir` within `firstByteMs` (offline, or
 * a network that drops packets: the SDK's client would wait minutes) or when the bytes stop growing
 * for `stallMs`. A download given up on may still finish in the background; its file is then found
 * by the next run's cache lookup only after it was verified, so a half-written file is never taken.
 */
export async function watchedDownload(
  download: Downloader,
  version: string,
  downloadDir: string,
  watch: DownloadWatch = {},
): Promise<DownloadResult> {
  const firstByteMs = watch.firstByteMs ?? 5_000;
  const stallMs = watch.stallMs ?? 30_000;
  const pollMs = watch.pollMs ?? 250;
  const before = await bytesUnder(downloadDir);
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<DownloadResult>((resolve) => {
    const started = Date.now();
    let last = before;
    let lastGrowth = started;
    const tick = async () => {
      const now = Date.now();
      const size = await bytesUnder(downloadDir);
      if (size !== last) [last, lastGrowth] = [size, now];
      if (last === before && now - started >= firstByteMs) {
        return resolve({ reason: `nothing arrived within ${firstByteMs / 1000} s (offline?)` });
      }
      if (last !== before && now - lastGrowth >= stallMs) {
        return resolve({ reason: `the download stalled: no new bytes for ${stallMs / 1000} s` });
      }
      timer = setTimeout(() => void tick(), pollMs);
    };
    timer = setTimeout(() => void tick(), pollMs);
  });
  try {
    return await Promise.race([download(version, downloadDir), watchdog]);
  } finally {
    clearTimeout(timer);
  }
}
