#!/usr/bin/env node
// Runs the TypeScript CLI straight from source (no build step, so a clone is ready after `npm ci`).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
