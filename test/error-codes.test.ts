import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../src/errors.js';

describe('the error codes', () => {
  it('are each listed with their status in the table of docs/DECISIONS.md (Errors)', () => {
    const rows = readFileSync(new URL('../docs/DECISIONS.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('| '));
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      const row = rows.find((line) => line.includes(`\`${code}\``));
      expect(row, `${code} is not in the table`).toBeDefined();
      expect(row?.split('|')[1], `${code}'s row does not name ${status}`).toContain(String(status));
    }
  });
});
