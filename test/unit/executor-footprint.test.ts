import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { inspectFootprint, takeFootprintSnapshot } from '../../activities/executor-footprint.js';
import { hashFiles } from '../../activities/variants.js';
import { testdir } from '../helpers/testdir.js';

/** The footprint's scratch folders and its reuse of the snapshot's hashes, on real folders (docs/protocol.md#executor-footprint). */

const write = async (root: string, files: Record<string, string>) => {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, rel)), { recursive: true });
    await writeFile(join(root, rel), text);
  }
};

const project = () =>
  testdir({
    'src/model.py': 'a',
    'eval.py': 'e',
    'configs/base.yaml': 'lr: 1',
    'runs/old/ckpt.bin': '0',
    'outputs/config.yaml': 'seed: 1',
  });

const zones = { workspace: ['src/**'], protected: ['eval.py'] };
const SCRATCH = ['runs', '**/wandb', 'outputs', '!outputs/config.yaml'];

describe('scratch folders', () => {
  test("a training run's outputs are no finding; other files outside the workspace, and a ! exception, still are", async () => {
    const root = await project();
    await takeFootprintSnapshot({ root, session: 1, workspace: zones.workspace, scratch: SCRATCH });
    await write(root, {
      'runs/exp1/ckpt.bin': '1',
      'runs/old/ckpt.bin': '2',
      'sub/wandb/run-1/log.txt': 'loss',
      'outputs/model.pt': 'w',
      'outputs/config.yaml': 'seed: 2',
      'configs/base.yaml': 'lr: 2',
    });
    const footprint = await inspectFootprint({ root, session: 1, ...zones, scratch: SCRATCH });
    expect(footprint).toMatchObject({
      outside: ['configs/base.yaml', 'outputs/config.yaml'],
      workspaceChanged: false,
      truncated: false,
    });
  });

  test('a folder wholly scratch is not walked, so its files spend none of the walk', async () => {
    const root = await project();
    await takeFootprintSnapshot({ root, session: 1, workspace: zones.workspace, scratch: SCRATCH });
    const before = JSON.parse(
      await readFile(join(root, 'loop_station/sessions/session_001/engine_guard/before.json'), 'utf8'),
    ) as {
      root: { entries: Record<string, string> };
    };
    expect(Object.keys(before.root.entries).sort()).toEqual([
      'configs/base.yaml',
      'eval.py',
      'outputs/config.yaml',
      'src/model.py',
    ]);
  });

  test('a snapshot that listed scratch files (an engine before scratch) gives no finding for them either', async () => {
    const root = await project();
    await takeFootprintSnapshot({ root, session: 1, workspace: zones.workspace });
    await write(root, { 'runs/old/ckpt.bin': '2' });
    expect(await inspectFootprint({ root, session: 1, ...zones, scratch: ['runs'] })).toMatchObject({ outside: [] });
  });

  test('only scratch changed and no workspace file: nothing outside, so the value is not held back as changed-only-outside', async () => {
    const root = await project();
    await takeFootprintSnapshot({ root, session: 1, workspace: zones.workspace, scratch: ['runs'] });
    await write(root, { 'runs/exp2/ckpt.bin': '3' });
    expect(await inspectFootprint({ root, session: 1, ...zones, scratch: ['runs'] })).toMatchObject({
      outside: [],
      workspaceChanged: false,
    });
  });
});

describe("the snapshot's workspace hashes", () => {
  test('are what the footprint compares, not a second hashing of the workspace', async () => {
    const root = await project();
    await takeFootprintSnapshot({ root, session: 1, workspace: zones.workspace });
    await write(root, { 'src/model.py': 'b' });
    const hashes = await hashFiles(root, zones.workspace);
    // Put back: the files now read as at the open, the hashes given still say what the snapshot read.
    await write(root, { 'src/model.py': 'a' });
    expect(await inspectFootprint({ root, session: 1, ...zones, workspaceHashes: hashes })).toMatchObject({
      workspaceChanged: true,
    });
  });

  test('without them the footprint hashes the workspace itself', async () => {
    const root = await project();
    await takeFootprintSnapshot({ root, session: 1, workspace: zones.workspace });
    await write(root, { 'src/new.py': 'n' });
    expect(await inspectFootprint({ root, session: 1, ...zones })).toMatchObject({ workspaceChanged: true });
  });
});
