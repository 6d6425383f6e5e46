import { createServer } from 'node:net';
import { expect, test } from 'vitest';
import { uiLine } from '../../cli/connect.js';
import { findFreePort } from '../../server/dev-server.js';

test('the UI line links a Web UI that answers on this machine, and says none where nothing does (dev --headless)', async () => {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}/namespaces/default/workflows/loop-x`;
  expect(await uiLine({ host: '127.0.0.1' }, url)).toBe(
    `UI: none (no Temporal Web UI answers on port ${port}; LOOP_STATION_UI_URL names one elsewhere)`,
  );
  const ui = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => ui.listen(port, '127.0.0.1', resolve));
  try {
    expect(await uiLine({ host: '127.0.0.1' }, url)).toBe(`UI: ${url}`);
  } finally {
    ui.close();
  }
  // A server elsewhere: its UI is not probed from here.
  expect(await uiLine({ host: 'temporal.internal' }, 'http://temporal.internal:8233/x')).toBe(
    'UI: http://temporal.internal:8233/x',
  );
});
