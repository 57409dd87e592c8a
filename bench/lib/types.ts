import type { DatabaseHandle } from '../../src/db/client.js';

/** A measured quantity; `unit` decides how it is printed. */
export interface Measure {
  value: number;
  unit: 'rows/s' | 'req/s' | 'MB' | 's' | 'ms' | 'µs' | 'rows';
}

/** One line of the result table: a figure beside its baseline from the same run. */
export interface Row {
  /** What was measured, with the size it was measured at. */
  figure: string;
  value: Measure | null;
  baseline: { label: string; value: Measure } | null;
  /** `value / baseline` unless given; null prints a dash. */
  ratio?: number | null;
  /** The target and whether this run met it; null when the figure is only reported. */
  target: { text: string; pass: boolean } | null;
  /** Set instead of a value when the scenario cannot be measured yet. */
  pending?: string;
}

export interface ScenarioResult {
  rows: Row[];
  /** Extra lines printed under the table (detail, caveats). */
  notes?: string[];
}

/** What every scenario gets from the runner. */
export interface BenchContext {
  /** `--full`: the sizes of the targets; otherwise a quick run. */
  full: boolean;
  /** The fresh bench database, migrated and emptied before each scenario. */
  database: { name: string; url: string; handle: DatabaseHandle };
  /**
   * Another fresh database on the same server, migrated, dropped once the scenario ends (or the
   * run is interrupted): for figures that compare databases side by side.
   */
  newDatabase(): Promise<BenchContext['database']>;
  /** Progress, on stderr, so that stdout is the report alone. */
  log(message: string): void;
}

export interface Scenario {
  /** Short name, used by `--only` and in the table. */
  name: string;
  run(context: BenchContext): Promise<ScenarioResult>;
}
