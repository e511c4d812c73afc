#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npx itchain` works straight after `npm install` with no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
