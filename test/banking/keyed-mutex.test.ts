import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../src/banking/keyed-mutex.js';

describe('KeyedMutex', () => {
  it('runs tasks of one key one after the other, even when one fails', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([mutex.run('a', task('1', true)), mutex.run('a', task('2'))]);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });

  it('runs tasks of different keys side by side', async () => {
    const mutex = new KeyedMutex();
    const events: string[] = [];
    const task = (name: string) => async () => {
      events.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push(`end ${name}`);
    };
    await Promise.all([mutex.run('a', task('a')), mutex.run('b', task('b'))]);
    expect(events.slice(0, 2)).toEqual(['start a', 'start b']);
  });
});
