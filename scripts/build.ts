/**
 * `npm run build` (and `prepack`): the package's runtime code compiled to dist/, then the workflow
 * bundle built from that compiled code, so an installed worker starts without bundling.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { copyAssets, ROOT as root } from './checkout-cli.mjs';

const require = createRequire(import.meta.url);
const step = (args: string[]) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
step([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
// Files modules read beside themselves (new URL('./static/', import.meta.url)) go where the compiled module is.
copyAssets(fileURLToPath(new URL('../dist', import.meta.url)));
step(['dist/scripts/build-workflow-bundle.js', '--prebuilt']);
