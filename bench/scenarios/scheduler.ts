/**
 * PLACEHOLDER. Two service instances with the background scheduler on, sharing one database,
 * syncing 200 connections: each connection must be synced exactly once per interval. It needs
 * the scheduler (issue 4, point 5), which is being built; until then this scenario reports
 * itself as pending rather than a figure.
 */
import type { Scenario } from '../lib/types.js';

export const scheduler: Scenario = {
  name: 'scheduler',
  async run() {
    return {
      rows: [
        {
          figure: 'two instances syncing 200 connections',
          value: null,
          baseline: null,
          target: { text: 'each synced exactly once per interval', pass: false },
          pending: 'background scheduler not built yet',
        },
      ],
    };
  },
};
