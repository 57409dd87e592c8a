/**
 * What banks send through GoCardless that its documentation allows and a sync must take: a
 * transaction id the bank repeats, an id listed as booked and as pending at once, an amount finer
 * than its currency, an account with only an available balance. Each connection is its own
 * customer at the fake, so the tests do not depend on each other.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGoCardless, INSTITUTION_GB } from '../providers/gocardless/fake-server.js';
import { startTestApp, type Team, type TestApp, TestClock } from '../support/app.js';
import { type AccountBody, listAllTransactions, type TransactionBody } from '../support/fixtures.js';

describe('GoCardless bank data that the documentation allows', () => {
  const clock = new TestClock(new Date('2026-11-26T10:00:00.000Z'));
  let fake: FakeGoCardless;
  let t: TestApp;
  let team: Team;

  beforeAll(async () => {
    fake = await FakeGoCardless.start({ now: clock.now });
    t = await startTestApp({
      clock,
      env: {
        ...fake.serviceEnv(),
        ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      },
    });
    team = await t.createTeam('bank-data');
  });

  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  /** A new customer with one account and no transactions yet, connected; answers the fake's account. */
  async function connectCustomer() {
    const { requisitionId, accountIds } = fake.addLinkedCustomer({ accounts: 1, booked: 0 });
    const response = await t.as(team).post('/api/banking/connect', {
      teamId: team.teamId,
      provider: 'gocardless',
      providerId: INSTITUTION_GB,
      consentId: requisitionId,
    });
    expect(response.statusCode, response.body).toBe(201);
    const account = fake.accounts.get(accountIds[0] as string);
    if (!account) throw new Error('the fake made no account');
    account.pending.length = 0;
    return { connectionId: (response.json() as { id: string }).id, account };
  }

  const sync = (connectionId: string) =>
    t.as(team).post('/api/banking/sync', { teamId: team.teamId, connectionId });

  async function transactionsOf(connectionId: string): Promise<TransactionBody[]> {
    return listAllTransactions(t, team, { connectionId });
  }

  const booked = (transactionId: string, amount: string, description: string) => ({
    transactionId,
    bookingDate: '2026-11-24',
    transactionAmount: { amount, currency: 'GBP' },
    remittanceInformationUnstructured: description,
  });

  it('takes a transaction the bank lists twice under one id once, and two different ones under one id apart', async () => {
    const { connectionId, account } = await connectCustomer();
    account.booked.push(
      booked('DUP-1', '-4.00', 'COFFEE'),
      booked('DUP-1', '-4.00', 'COFFEE'),
      booked('DUP-2', '-4.00', 'COFFEE'),
      booked('DUP-2', '-6.00', 'SANDWICH'),
    );
    const first = await sync(connectionId);
    expect(first.statusCode, first.body).toBe(200);
    const rows = (await transactionsOf(connectionId)).map((row) => [row.description, row.amount]);
    expect(rows.sort()).toEqual([
      ['COFFEE', 4],
      ['COFFEE', 4],
      ['SANDWICH', 6],
    ]);
    const again = await sync(connectionId);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().sync).toMatchObject({ transactionsAdded: 0, transactionsRemoved: 0 });
  });

  it('keeps two transactions under one bank id apart on a later sync that sees only one of them', async () => {
    const { connectionId, account } = await connectCustomer();
    account.booked.push(
      { ...booked('RE-1', '-4.00', 'COFFEE'), bookingDate: '2026-11-10' },
      booked('RE-1', '-6.00', 'SANDWICH'),
    );
    expect((await sync(connectionId)).statusCode).toBe(200);
    const first = await transactionsOf(connectionId);
    clock.advanceDays(1);
    // The incremental sync reads from 5 days before the last booking: the coffee is out of its range.
    const again = await sync(connectionId);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().sync).toMatchObject({ transactionsAdded: 0, transactionsUpdated: 0 });
    expect(await transactionsOf(connectionId)).toEqual(first);
    expect(first.map((row) => row.description).sort()).toEqual(['COFFEE', 'SANDWICH']);
    // Both in range again, listed the other way round, the coffee re-dated by the bank: each
    // keeps its own row, the coffee's updated in place.
    account.booked.reverse();
    account.booked[1] = { ...(account.booked[1] as object), bookingDate: '2026-11-23' };
    expect((await sync(connectionId)).json().sync).toMatchObject({
      transactionsAdded: 0,
      transactionsUpdated: 1,
    });
    const later = await transactionsOf(connectionId);
    expect(later.map((row) => [row.description, row.id]).sort()).toEqual(
      first.map((row) => [row.description, row.id]).sort(),
    );
  });

  it('keeps the booked copy of a transaction listed as booked and as pending in one answer', async () => {
    const { connectionId, account } = await connectCustomer();
    account.booked.push(booked('TX-42', '-9.50', 'BOOKS'));
    account.pending.push({
      transactionId: 'TX-42',
      valueDate: '2026-11-26',
      transactionAmount: { amount: '-9.00', currency: 'GBP' },
      remittanceInformationUnstructured: 'BOOKS',
    });
    const response = await sync(connectionId);
    expect(response.statusCode, response.body).toBe(200);
    expect((await transactionsOf(connectionId)).map((row) => [row.amount, row.status])).toEqual([
      [9.5, 'BOOKED'],
    ]);
  });

  it('rounds an amount finer than its currency rather than failing every sync of the connection', async () => {
    const { connectionId, account } = await connectCustomer();
    account.booked.push(booked('FX-1', '-12.345', 'FUEL'), booked('FX-2', '3.00', 'REFUND'));
    const response = await sync(connectionId);
    expect(response.statusCode, response.body).toBe(200);
    expect(
      (await transactionsOf(connectionId)).map((row) => [row.description, row.amount, row.type]).sort(),
    ).toEqual([
      ['FUEL', 12.35, 'DEBIT'],
      ['REFUND', 3, 'CREDIT'],
    ]);
  });

  it("shows an account's only balance, an available one, as its balance rather than 0", async () => {
    const { connectionId, account } = await connectCustomer();
    account.balances = [
      {
        balanceAmount: { amount: '523.18', currency: 'GBP' },
        balanceType: 'interimAvailable',
        referenceDate: '2026-11-26',
      },
    ];
    expect((await sync(connectionId)).statusCode).toBe(200);
    const accounts = (
      await t.as(team).get('/api/banking/accounts', { teamId: team.teamId, connectionId })
    ).json() as AccountBody[];
    expect(accounts.map((row) => [row.balance, row.availableBalance])).toEqual([[523.18, 523.18]]);
  });

  it('removes a pending hold the bank stops listing however old it is, on an incremental sync', async () => {
    const { connectionId, account } = await connectCustomer();
    account.booked.push(booked('B-1', '-20.00', 'GROCER'));
    account.pending.push({
      valueDate: '2026-11-12',
      transactionAmount: { amount: '-150.00', currency: 'GBP' },
      remittanceInformationUnstructured: 'HOTEL DEPOSIT',
    });
    expect((await sync(connectionId)).statusCode).toBe(200);
    expect((await transactionsOf(connectionId)).map((row) => [row.description, row.status])).toEqual([
      ['GROCER', 'BOOKED'],
      ['HOTEL DEPOSIT', 'PENDING'],
    ]);
    account.pending.length = 0;
    clock.advanceDays(1);
    const again = await sync(connectionId);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().sync).toMatchObject({ transactionsRemoved: 1 });
    expect((await transactionsOf(connectionId)).map((row) => row.description)).toEqual(['GROCER']);
  });

  it('goes on importing new bookings after the bank lists one dated in the future', async () => {
    const { connectionId, account } = await connectCustomer();
    const standingOrder = { ...booked('SO-1', '-50.00', 'RENT'), bookingDate: '2026-12-20' };
    account.booked.push(booked('B-1', '-20.00', 'GROCER'));
    // Some banks book a standing order ahead of its date; the fake, as GoCardless documents it,
    // would keep it out of a range that ends today, so this answer is the bank's own.
    fake.inject({
      method: 'GET',
      path: new RegExp(`/accounts/${account.id}/transactions/`),
      status: 200,
      body: { transactions: { booked: [...account.booked, standingOrder], pending: [] } },
    });
    expect((await sync(connectionId)).statusCode).toBe(200);
    for (const day of ['2026-11-27', '2026-11-28']) {
      clock.advanceDays(1);
      account.booked.push({ ...booked(`NEW-${day}`, '-3.00', `COFFEE ${day}`), bookingDate: day });
      const again = await sync(connectionId);
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json().sync).toMatchObject({ transactionsAdded: 1 });
    }
    expect((await transactionsOf(connectionId)).map((row) => row.description)).toEqual([
      'RENT',
      'COFFEE 2026-11-28',
      'COFFEE 2026-11-27',
      'GROCER',
    ]);
  });

  it('drops a NUL a bank puts in its text rather than failing every sync of the connection', async () => {
    const { connectionId, account } = await connectCustomer();
    account.details = { ...(account.details as object), name: 'Main\u0000Account' };
    account.booked.push({
      ...booked('NUL-1', '-3.00', 'COFFEE\u0000SHOP'),
      creditorName: 'CAFE\u0000LTD',
    });
    const response = await sync(connectionId);
    expect(response.statusCode, response.body).toBe(200);
    expect(
      (await transactionsOf(connectionId)).map((row) => [row.description, row.account.accountName]),
    ).toEqual([['COFFEESHOP', 'MainAccount']]);
  });

  it("fails the sync as the bank's for an account currency ISO 4217 does not list, and the team's accounts still list", async () => {
    const { connectionId, account } = await connectCustomer();
    account.details = { ...(account.details as object), currency: 'XBT' };
    account.balances = [];
    const response = await sync(connectionId);
    expect(response.statusCode, response.body).toBe(502);
    const accounts = await t.as(team).get('/api/banking/accounts', { teamId: team.teamId });
    expect(accounts.statusCode, accounts.body).toBe(200);
    expect((accounts.json() as AccountBody[]).some((row) => row.currency === 'XBT')).toBe(false);
  });
});
