#!/usr/bin/env node
// An installed package runs the compiled CLI in dist/. A development checkout (the TypeScript
// sources sit next to this file; the package ships none) runs them through tsx instead, so a clone
// is ready after `npm ci` and an edit needs no build step.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node 22.1+ keeps compiled code between runs (a faster start); older Node has no such cache.
module.enableCompileCache?.();

const source = new URL('../cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
