import type { Measure } from './types.js';

const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });

export const count = (n: number) => integer.format(n);

export function formatMeasure(measure: Measure): string {
  const { value, unit } = measure;
  switch (unit) {
    case 'rows/s':
      return `${integer.format(value)} rows/s`;
    case 'req/s':
      return `${integer.format(value)} req/s`;
    case 'rows':
      return `${integer.format(value)} rows`;
    case 'MB':
      return `${value.toFixed(0)} MB`;
    case 's':
      return `${value.toFixed(2)} s`;
    case 'ms':
      return `${value.toFixed(1)} ms`;
    case 'µs':
      return `${integer.format(value)} µs`;
  }
}

export const formatRatio = (ratio: number) => `${ratio.toFixed(2)}x`;

/** Kilobytes (as `process.resourceUsage().maxRSS` gives them) to MB (10^6 bytes). */
export const kbToMb = (kb: number) => (kb * 1024) / 1e6;
