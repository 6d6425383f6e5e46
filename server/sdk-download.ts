import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Downloaded, or the reason it was not, for the error's list of attempts. */
export type DownloadResult = { readonly path: string } | { readonly reason: string };

/**
 * Last resort: let the Temporal SDK download the CLI the way its test environment does. It needs
 * the internet and `@temporalio/testing` (a dev dependency, so absent from production installs).
 * The SDK starts a dev server on the binary right away; only the downloaded file matters here.
 */
export async function downloadWithSdk(version: string, downloadDir: string): Promise<DownloadResult> {
  const testing = await import('@temporalio/testing').catch(() => undefined);
  if (testing === undefined) return { reason: 'the @temporalio/testing package is not installed (it is a dev dependency)' };
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
    // The download may have worked and only the SDK's 5 s server start failed: look for the file.
    startError = error;
  }
  if (await access(path).then(() => true, () => false)) return { path };
  const message = startError instanceof Error ? startError.message : String(startError);
  return { reason: `the SDK download failed: ${message.split('\n')[0] ?? message}` };
}
