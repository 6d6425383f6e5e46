#!/usr/bin/env node
// An installed package runs the compiled CLI in dist/. A development checkout (the TypeScript
// sources sit next to this file; the package ships none) runs them compiled once per content into
// .loop-station/cli/ (scripts/checkout-cli.mjs), so a clone is ready after `npm ci` and an edit
// needs no build step; when they cannot be compiled there, it runs them through tsx.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { pathToFileURL } from 'node:url';

// Node 22.1+ keeps compiled code between runs (a faster start); older Node has no such cache.
module.enableCompileCache?.();

const source = new URL('../cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { compiledCheckout } = await import('../scripts/checkout-cli.mjs');
  const compiled = compiledCheckout();
  if (compiled) {
    await import(pathToFileURL(compiled).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(source.href);
  }
} else {
  await import('../dist/cli/main.js');
}
