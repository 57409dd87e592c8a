/**
 * Pure, deterministic generation of the sandbox's accounts, balances and transactions.
 *
 * Time is counted in days relative to the UTC day of the connection (day 0). Every account
 * has, for every day, a number of transactions; transaction `k` of a day is a function of the
 * account, the day and `k` alone, and its time of day grows with `k`. So any range of days can
 * be generated lazily, in order, without generating what comes before it.
 */
import type { AccountType, ProviderAccount, ProviderTransaction } from '../provider.js';
import { ACCOUNT_TYPES } from '../provider.js';
import {
  CATALOGS,
  type Catalog,
  type Group,
  type ProfileAmount,
  type Scheduled,
  type Template,
} from './catalog.js';
import type { AccountIdentifiers } from './institutions.js';
import type { SandboxConfig } from './metadata.js';
import { combine, hashWords, hex8, permute, Rng } from './prng.js';

export const DAY_MS = 86_400_000;
/** A transaction younger than this (by the clock) is PENDING; older ones are BOOKED. */
export const PENDING_MS = 2 * DAY_MS;
/** The share of restaurant payments that book with a tip added. */
export const TIP_RATE = 1 / 5;
/** The share of card payments (from day 0 on) that are authorisation holds, gone once no longer pending. */
export const HOLD_RATE = 1 / 15;

/** Transactions happen between 06:00 and 23:00 UTC, in whole seconds. */
const WINDOW_START_S = 6 * 3600;
const WINDOW_S = 17 * 3600;

/** Extra transactions a day, beyond the scheduled ones, when no exact size is asked for. */
const DAILY_COUNTS: Record<AccountType, readonly number[]> = {
  CHECKING: [0, 1, 2, 2, 3, 3, 3, 4, 4, 5],
  CREDIT: [0, 1, 1, 2, 2, 3],
  SAVINGS: [],
  INVESTMENT: [],
};
/** Savings see an occasional ad-hoc transfer besides the monthly ones. */
const SAVINGS_ADHOC_RATE = 1 / 30;

const ACCOUNT_CYCLE: readonly AccountType[] = ACCOUNT_TYPES;

/** Amounts shared by all accounts of a consent (the salary paid in, the saving sent across...). */
type Profile = Record<ProfileAmount, number>;

export interface AccountPlan {
  index: number;
  providerAccountId: string;
  type: AccountType;
  name: string;
  identifiers: AccountIdentifiers;
  /** Base seed of everything generated for the account. */
  seed: number;
  /** Keys of the permutation that turns (day, ordinal) into the transaction id. */
  idKeys: readonly number[];
  profile: Profile;
  /** Balance (or value) at the start of the history; the credit limit for CREDIT. */
  openingMinor: number;
  limitMinor: number;
  overdraftMinor: number;
}

/** Everything generation needs besides the account: the connection and the clock. */
export interface Timeline {
  config: SandboxConfig;
  /** Start (ms) of the UTC day of the connection. */
  day0: number;
  /** The moment of the connection (ms): day 0 has no transactions before it. */
  connected: number;
  /** The moment (ms) the bank's data are as of: the start of the clock's UTC day (see `timeline`). */
  now: number;
}

/**
 * The bank as it shows itself on the clock's UTC day. Its data are a function of the consent and
 * the date (the contract: "two syncs on the same day see the same data"), so they are taken as of
 * the start of that day, like a bank that books overnight: what happens during a day appears the
 * next day, and a transaction books on the first day it is two days old. On the day of
 * connection the data are as of the connection itself, so the history is all there at once.
 */
export function timeline(config: SandboxConfig, connectedAt: Date, now: Date): Timeline {
  const connected = connectedAt.getTime();
  const startOfDay = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return {
    config,
    day0: Math.floor(connected / DAY_MS) * DAY_MS,
    connected,
    now: Math.max(startOfDay, connected),
  };
}

export const dayIndexOf = (line: Timeline, ms: number): number => Math.floor((ms - line.day0) / DAY_MS);

// ---------------------------------------------------------------------------------------------
// Accounts

export function planAccounts(consentId: string, config: SandboxConfig): AccountPlan[] {
  const profileRng = new Rng(hashWords(`${consentId}|profile`)[0] ?? 0);
  const profile: Profile = {
    salary: profileRng.int(220_000, 420_000),
    rent: profileRng.int(180, 360) * 500,
    saving: profileRng.int(10, 50) * 1000,
    contribution: profileRng.int(10, 40) * 1000,
    interest: 0,
  };
  const plans: AccountPlan[] = [];
  for (let index = 0; index < config.accounts; index++) {
    const type = ACCOUNT_CYCLE[index % ACCOUNT_CYCLE.length] ?? 'CHECKING';
    const round = Math.floor(index / ACCOUNT_CYCLE.length);
    const words = hashWords(`${consentId}|account|${index}`);
    const word = (i: number) => words[i] ?? 0;
    const rng = new Rng(word(7));
    const openingMinor = {
      CHECKING: rng.int(80_000, 350_000),
      SAVINGS: rng.int(200_000, 2_500_000),
      CREDIT: 0,
      INVESTMENT: rng.int(500_000, 5_000_000),
    }[type];
    plans.push({
      index,
      providerAccountId: `sbx_acc_${hex8(word(0))}${hex8(word(1))}${hex8(word(2))}`,
      type,
      name: `${config.institution.accountNames[type]}${round > 0 ? ` ${round + 1}` : ''}`,
      identifiers: config.institution.identifiers(`${consentId}|${index}`),
      seed: word(3),
      idKeys: [word(4), word(5), word(6), word(7)],
      profile: { ...profile, interest: Math.round((openingMinor * 0.04) / 12) },
      openingMinor,
      limitMinor: type === 'CREDIT' ? rng.pick([200_000, 300_000, 500_000, 750_000, 1_000_000]) : 0,
      overdraftMinor: type === 'CHECKING' ? rng.pick([0, 50_000, 100_000, 150_000]) : 0,
    });
  }
  return plans;
}

/** A signed, deterministic wobble in [-amplitude, amplitude] for the account on a day. */
function wobble(plan: AccountPlan, day: number, amplitude: number): number {
  return (combine(plan.seed ^ 0x2545f491, day) % (2 * amplitude + 1)) - amplitude;
}

/**
 * The account's balances on a day: a cheap function of the day (a monthly cycle plus a
 * wobble), not a sum of its transactions.
 */
export function balancesOn(
  plan: AccountPlan,
  line: Timeline,
  day: number,
): Pick<ProviderAccount, 'balanceMinor' | 'availableBalanceMinor'> {
  const dayOfMonth = new Date(line.day0 + day * DAY_MS).getUTCDate();
  const elapsed = Math.max(0, day + line.config.days);
  switch (plan.type) {
    case 'CHECKING': {
      const sincePayday = (dayOfMonth - 25 + 31) % 31;
      const balance =
        plan.openingMinor +
        Math.round(plan.profile.salary * 0.75 * (1 - sincePayday / 30)) +
        wobble(plan, day, 5000);
      return { balanceMinor: balance, availableBalanceMinor: balance + plan.overdraftMinor };
    }
    case 'SAVINGS': {
      const balance =
        plan.openingMinor +
        Math.floor(elapsed / 30) * plan.profile.saving +
        Math.floor((plan.openingMinor * elapsed) / (365 * 25));
      return { balanceMinor: balance, availableBalanceMinor: balance };
    }
    case 'CREDIT': {
      const sinceRepayment = (dayOfMonth - 5 + 31) % 31;
      const raw =
        Math.round(plan.limitMinor * (0.08 + (0.4 * sinceRepayment) / 30)) + wobble(plan, day, 2000);
      const owed = Math.min(plan.limitMinor, Math.max(0, raw));
      return { balanceMinor: -owed, availableBalanceMinor: plan.limitMinor - owed };
    }
    case 'INVESTMENT': {
      const value =
        plan.openingMinor +
        Math.floor(elapsed / 30) * plan.profile.contribution +
        Math.floor((plan.openingMinor * elapsed) / (365 * 14)) +
        wobble(plan, day, Math.floor(plan.openingMinor / 50));
      return { balanceMinor: value, availableBalanceMinor: null };
    }
  }
}

export function toProviderAccount(plan: AccountPlan, line: Timeline): ProviderAccount {
  return {
    providerAccountId: plan.providerAccountId,
    name: plan.name,
    type: plan.type,
    currency: line.config.institution.currency,
    accountNumber: plan.identifiers.accountNumber,
    sortCode: plan.identifiers.sortCode,
    ...balancesOn(plan, line, dayIndexOf(line, line.now)),
  };
}

// ---------------------------------------------------------------------------------------------
// Days

export interface DayPlan {
  day: number;
  /** Start of the day, ms. */
  start: number;
  count: number;
  scheduled: readonly Scheduled[];
  seed: number;
}

export function planDay(plan: AccountPlan, line: Timeline, catalog: Catalog, day: number): DayPlan {
  const start = line.day0 + day * DAY_MS;
  const date = new Date(start);
  const dayOfMonth = date.getUTCDate();
  const quarterEnd = date.getUTCMonth() % 3 === 2;
  const scheduled = catalog.scheduled[plan.type].filter(
    (s) => s.dayOfMonth === dayOfMonth && (!s.quarterly || quarterEnd),
  );
  const seed = combine(plan.seed, day);
  return { day, start, count: countOnDay(plan, line.config, day, scheduled.length, seed), scheduled, seed };
}

/**
 * With `transactionsPerAccount = N` over `days` history days, history day i (0-based) gets
 * floor((i+1)N/days) - floor(iN/days), so that exactly N fall in the history; later days go
 * on at the same rate. Otherwise: the scheduled payments plus a random number by account type.
 */
function countOnDay(
  plan: AccountPlan,
  config: SandboxConfig,
  day: number,
  scheduled: number,
  seed: number,
): number {
  if (day < -config.days) return 0;
  const perAccount = config.transactionsPerAccount;
  if (perAccount !== null) {
    const i = day + config.days;
    return Math.floor(((i + 1) * perAccount) / config.days) - Math.floor((i * perAccount) / config.days);
  }
  const rng = new Rng(combine(seed, 0x5eed));
  if (plan.type === 'SAVINGS') return scheduled + (rng.chance(SAVINGS_ADHOC_RATE) ? 1 : 0);
  const counts = DAILY_COUNTS[plan.type];
  return scheduled + (counts.length > 0 ? rng.pick(counts) : 0);
}

const transactionSeed = (day: DayPlan, ordinal: number) => combine(day.seed ^ 0x68e31da4, ordinal);

/** Time (ms) of transaction `ordinal` of the day; never decreasing in `ordinal`. */
function timeOf(day: DayPlan, ordinal: number, rng: Rng = new Rng(transactionSeed(day, ordinal))): number {
  const offset = Math.floor(((ordinal + rng.next()) * WINDOW_S) / day.count);
  return day.start + (WINDOW_START_S + offset) * 1000;
}

/** The first ordinal of the day whose time is >= `ms` (or `day.count`). */
function firstOrdinalAtOrAfter(day: DayPlan, ms: number): number {
  let low = 0;
  let high = day.count;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (timeOf(day, mid) < ms) low = mid + 1;
    else high = mid;
  }
  return low;
}

// ---------------------------------------------------------------------------------------------
// Transactions

/** A transaction as generated, before the clock decides its status and amount. */
export interface RawTransaction {
  day: number;
  ordinal: number;
  id: string;
  time: number;
  template: Template;
  pendingAmountMinor: number;
  bookedAmountMinor: number;
  /** An authorisation hold: seen only while pending. */
  hold: boolean;
}

function pickGroup(groups: readonly Group[], rng: Rng): Group {
  let total = 0;
  for (const group of groups) total += group.weight;
  let target = rng.next() * total;
  for (const group of groups) {
    target -= group.weight;
    if (target < 0) return group;
  }
  const last = groups[groups.length - 1];
  if (!last) throw new Error('empty catalog');
  return last;
}

function amountOf(template: Template, rng: Rng): number {
  const amount = rng.int(template.min, template.max);
  const step = template.step;
  return step ? Math.max(step, Math.round(amount / step) * step) : amount;
}

export function generateTransaction(
  plan: AccountPlan,
  catalog: Catalog,
  day: DayPlan,
  ordinal: number,
): RawTransaction {
  const rng = new Rng(transactionSeed(day, ordinal));
  const time = timeOf(day, ordinal, rng);
  const scheduled = day.scheduled[ordinal];
  let template: Template;
  let amount: number;
  if (scheduled) {
    template = scheduled.template;
    amount = scheduled.amount ? plan.profile[scheduled.amount] : amountOf(template, rng);
  } else {
    template = rng.pick(pickGroup(catalog.random[plan.type], rng).templates);
    amount = amountOf(template, rng);
  }
  const booked =
    template.tip && rng.chance(TIP_RATE) ? amount + Math.round((amount * rng.int(10, 20)) / 100) : amount;
  const hold = !scheduled && template.card === true && day.day >= 0 && rng.chance(HOLD_RATE);
  const [high, low] = permute(plan.idKeys, day.day, ordinal);
  return {
    day: day.day,
    ordinal,
    id: `sbx_txn_${hex8(high)}${hex8(low)}`,
    time,
    template,
    pendingAmountMinor: amount,
    bookedAmountMinor: booked,
    hold,
  };
}

/** The transaction as the bank shows it at `now`; null for a hold that is no longer pending. */
export function present(raw: RawTransaction, currency: string, now: number): ProviderTransaction | null {
  const pending = now - raw.time < PENDING_MS;
  if (raw.hold && !pending) return null;
  return {
    providerTransactionId: raw.id,
    amountMinor: pending ? raw.pendingAmountMinor : raw.bookedAmountMinor,
    type: raw.template.type,
    currency,
    description: raw.template.description,
    transactionDate: new Date(raw.time),
    status: pending ? 'PENDING' : 'BOOKED',
    category: raw.template.category,
  };
}

/** A place in an account's sequence of transactions. */
export interface Position {
  day: number;
  ordinal: number;
}

export interface Listed {
  position: Position;
  transaction: ProviderTransaction;
}

/**
 * The account's transactions dated in [fromMs, toMs] and not after the clock, in date order,
 * starting at `start`; generated one at a time.
 */
export function* iterateTransactions(
  plan: AccountPlan,
  line: Timeline,
  range: { fromMs: number; toMs: number },
  start: Position | null,
): Generator<Listed> {
  const catalog = CATALOGS[line.config.institution.id];
  const currency = line.config.institution.currency;
  const fromMs = Math.max(range.fromMs, line.day0 - line.config.days * DAY_MS);
  const toMs = Math.min(range.toMs, line.now);
  if (fromMs > toMs) return;
  const firstDay = Math.max(dayIndexOf(line, fromMs), start?.day ?? Number.NEGATIVE_INFINITY);
  const lastDay = dayIndexOf(line, toMs);
  for (let d = firstDay; d <= lastDay; d++) {
    const day = planDay(plan, line, catalog, d);
    if (day.count === 0) continue;
    let first = day.start < fromMs ? firstOrdinalAtOrAfter(day, fromMs) : 0;
    if (start && d === start.day) first = Math.max(first, start.ordinal);
    // The history ends at the moment of connection, so a sync right after connecting sees
    // exactly `transactionsPerAccount`; what the bank books later that day is new.
    if (d === 0) first = Math.max(first, firstOrdinalAtOrAfter(day, line.connected + 1));
    const end = day.start + DAY_MS - 1 > toMs ? firstOrdinalAtOrAfter(day, toMs + 1) : day.count;
    for (let ordinal = first; ordinal < end; ordinal++) {
      const transaction = present(generateTransaction(plan, catalog, day, ordinal), currency, line.now);
      if (transaction) yield { position: { day: d, ordinal }, transaction };
    }
  }
}

export function transactionPage(
  plan: AccountPlan,
  line: Timeline,
  range: { fromMs: number; toMs: number },
  start: Position | null,
  pageSize: number,
): { transactions: ProviderTransaction[]; next: Position | null } {
  const transactions: ProviderTransaction[] = [];
  const iterator = iterateTransactions(plan, line, range, start);
  while (transactions.length < pageSize) {
    const item = iterator.next();
    if (item.done) return { transactions, next: null };
    transactions.push(item.value.transaction);
  }
  const peek = iterator.next();
  return { transactions, next: peek.done ? null : peek.value.position };
}
