import { formatMeasure, formatRatio } from './format.js';
import type { Row } from './types.js';

export type Verdict = 'PASS' | 'FAIL' | 'PENDING' | 'ERROR' | '-';

export interface TableLine {
  scenario: string;
  row: Row;
  /** Set when the scenario crashed: the row then says so. */
  error?: string;
}

export function verdictOf(line: TableLine): Verdict {
  if (line.error) return 'ERROR';
  if (line.row.pending) return 'PENDING';
  if (!line.row.target) return '-';
  return line.row.target.pass ? 'PASS' : 'FAIL';
}

function ratioOf(row: Row): string {
  if (row.ratio === null) return '-';
  if (row.ratio !== undefined) return formatRatio(row.ratio);
  if (!row.value || !row.baseline || row.baseline.value.value === 0) return '-';
  return formatRatio(row.value.value / row.baseline.value.value);
}

const HEADER = [
  'Scenario',
  'Figure',
  'Value',
  'Baseline (same run)',
  'Baseline value',
  'Ratio',
  'Target',
  'Result',
];

/** A Markdown table, padded so that it reads as well in a terminal as in docs. */
export function renderTable(lines: TableLine[]): string {
  const escapePipes = (cell: string) => cell.replaceAll('|', '\\|');
  const cells = lines.map((line) => {
    const { row } = line;
    const value = line.error
      ? `error: ${line.error}`
      : row.pending
        ? `pending: ${row.pending}`
        : row.value
          ? formatMeasure(row.value)
          : '-';
    return [
      line.scenario,
      row.figure,
      value,
      row.baseline?.label ?? '-',
      row.baseline ? formatMeasure(row.baseline.value) : '-',
      line.error || row.pending ? '-' : ratioOf(row),
      row.target?.text ?? '(reported)',
      verdictOf(line),
    ].map(escapePipes);
  });
  const widths = HEADER.map((title, i) =>
    Math.max(title.length, ...cells.map((row) => (row[i] ?? '').length)),
  );
  const format = (row: string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [format(HEADER), rule, ...cells.map(format)].join('\n');
}
