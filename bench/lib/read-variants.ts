/**
 * The first-page requests the read scenarios measure: `GET /api/banking/transactions` unfiltered
 * and with each filter, alone and in the combinations where plans tend to go wrong (a common
 * and a rare category, date ranges, an equality filter with a range or a rare category), and two
 * that match nothing, where a filter checked row by row would walk all of another filter's rows.
 */
import { connectionOfAccount, type ReadTeam } from './read-data.js';

const DAY_MS = 86_400_000;

export interface ReadVariant {
  name: string;
  /** The query string after `teamId`. */
  query: Record<string, string>;
}

export function readVariants(team: ReadTeam): ReadVariant[] {
  const daysAgo = (days: number) => new Date(team.newest.getTime() - days * DAY_MS).toISOString();
  const account = team.accountIds[3] as string;
  const connection = team.connectionIds[1] as string;
  const otherConnection = team.connectionIds.find((id) => id !== connectionOfAccount(team, 3)) as string;
  const window = { from: daysAgo(21), to: daysAgo(14) };
  return [
    { name: 'unfiltered', query: {} },
    { name: 'accountId', query: { accountId: account } },
    { name: 'connectionId', query: { connectionId: connection } },
    { name: 'from (last 7 days)', query: { from: daysAgo(7) } },
    { name: 'to (30 days ago)', query: { to: daysAgo(30) } },
    { name: 'from+to (7-day window)', query: window },
    { name: 'type=CREDIT (7%)', query: { type: 'CREDIT' } },
    { name: 'category=eating_out (21%)', query: { category: 'eating_out' } },
    { name: 'category=charity (0.5%)', query: { category: 'charity' } },
    { name: 'accountId+from+to', query: { accountId: account, ...window } },
    { name: 'accountId+category=charity', query: { accountId: account, category: 'charity' } },
    { name: 'connectionId+category=eating_out', query: { connectionId: connection, category: 'eating_out' } },
    { name: 'type=DEBIT+from+to', query: { type: 'DEBIT', ...window } },
    // Groceries are all DEBIT in the data: "refunds in groceries" finds none.
    { name: 'category=groceries+type=CREDIT (none)', query: { category: 'groceries', type: 'CREDIT' } },
    {
      name: "accountId+another connection's connectionId (none)",
      query: { accountId: account, connectionId: otherConnection },
    },
  ];
}
