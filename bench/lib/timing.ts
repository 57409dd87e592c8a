import { performance } from 'node:perf_hooks';

/** Runs `work` and returns its result with the wall time it took, in seconds. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const start = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - start) / 1000 };
}
