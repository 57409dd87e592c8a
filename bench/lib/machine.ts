import os from 'node:os';
import pg from 'pg';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  postgres: string;
  /** Where the server is, as the bench reached it. */
  postgresHost: string;
  settings: Record<string, string>;
}

/** Settings of the server that move write and memory figures the most. */
const SETTINGS = ['shared_buffers', 'synchronous_commit', 'fsync', 'max_wal_size', 'work_mem'];

export async function describeMachine(url: string): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const version = await client.query<{ server_version: string }>('show server_version');
    const settings = await client.query<{ name: string; setting: string }>(
      'select name, current_setting(name) as setting from pg_settings where name = any($1) order by name',
      [SETTINGS],
    );
    const cpus = os.cpus();
    return {
      cpu: cpus[0]?.model.trim() ?? 'unknown',
      cores: cpus.length,
      memoryGb: os.totalmem() / 2 ** 30,
      node: process.version,
      postgres: version.rows[0]?.server_version ?? 'unknown',
      postgresHost: new URL(url).host,
      settings: Object.fromEntries(settings.rows.map((row) => [row.name, row.setting])),
    };
  } finally {
    await client.end();
  }
}

export function renderMachine(info: MachineInfo): string {
  const settings = Object.entries(info.settings)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  return [
    `- CPU: ${info.cpu}, ${info.cores} cores (${os.platform()} ${os.release()} ${os.arch()})`,
    `- Memory: ${info.memoryGb.toFixed(1)} GiB`,
    `- Node: ${info.node}`,
    `- PostgreSQL: ${info.postgres} (at ${info.postgresHost}; ${settings})`,
  ].join('\n');
}
