import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let flags: string[] | undefined;

/**
 * The Node flags `npm start` gives the service (package.json's `start` script). Every process the
 * bench starts runs with them, so that the service runs as in production and the processes
 * measured beside it on the same runtime.
 */
export function startFlags(): string[] {
  if (!flags) {
    const { scripts } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    const match = /\bnode((?: --[\w-]+(?:=\S+)?)*) dist\/src\/server\.js/.exec(scripts.start);
    if (!match) throw new Error(`npm start does not run node dist/src/server.js: ${scripts.start}`);
    flags = (match[1] ?? '').split(' ').filter(Boolean);
  }
  return flags;
}
