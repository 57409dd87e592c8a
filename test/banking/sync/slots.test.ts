import { describe, expect, it } from 'vitest';
import { SyncSlots, syncSlotsFor } from '../../../src/banking/sync/slots.js';

/** A task that runs until `finish()`, recording when it started. */
function heldTask(name: string, started: string[]) {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return {
    task: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('sync slots', () => {
  it('runs at most the total at once, and at most the per-team bound of one team', async () => {
    const slots = new SyncSlots(3, 2);
    const started: string[] = [];
    const tasks = ['a1', 'a2', 'a3', 'b1', 'b2'].map((name) => ({ name, ...heldTask(name, started) }));
    const runs = tasks.map(({ name, task }) => slots.run(name.slice(0, 1), task));
    await turn();
    // a3 waits for its team; b1 takes the third slot though it came after a3.
    expect(started).toEqual(['a1', 'a2', 'b1']);
    tasks[0]?.finish();
    await turn();
    await turn();
    // a1's slot goes to a3 (the longest waiting that may start), b2 still waits for a slot.
    expect(started).toEqual(['a1', 'a2', 'b1', 'a3']);
    for (const { finish } of tasks) finish();
    expect(await Promise.all(runs)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(started).toHaveLength(5);
  });

  it('gives up the place of a sync whose client left while it waited, and never runs it', async () => {
    const slots = new SyncSlots(1, 1);
    const started: string[] = [];
    const first = heldTask('first', started);
    const running = slots.run('a', first.task);
    const left = new AbortController();
    const gone = new Error('client gone');
    const waiting = slots.run('b', heldTask('never', started).task, left.signal, gone);
    const third = heldTask('third', started);
    const after = slots.run('c', third.task);
    left.abort();
    await expect(waiting).rejects.toBe(gone);
    first.finish();
    third.finish();
    expect(await Promise.all([running, after])).toEqual(['first', 'third']);
    expect(started).toEqual(['first', 'third']);
  });

  it('keeps half the pool for requests, a quarter of it for one team, and always lets one sync run', async () => {
    const started: string[] = [];
    const bounds = async (slots: SyncSlots, teams: string[]) => {
      started.length = 0;
      const tasks = teams.map((team, i) => heldTask(`${team}${i}`, started));
      const runs = tasks.map((held, i) => slots.run(teams[i] as string, held.task));
      await turn();
      const count = started.length;
      for (const held of tasks) held.finish();
      await Promise.all(runs);
      return count;
    };
    expect(await bounds(syncSlotsFor(10), ['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toBe(5);
    expect(await bounds(syncSlotsFor(10), ['a', 'a', 'a', 'a'])).toBe(2);
    expect(await bounds(syncSlotsFor(1), ['a', 'b'])).toBe(1);
    expect(await bounds(syncSlotsFor(3), ['a', 'b'])).toBe(1);
  });
});
