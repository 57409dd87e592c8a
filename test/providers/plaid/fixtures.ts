/**
 * Data for the fake Plaid API, written from the formats of Plaid's public API reference
 * (AccountBase, Transaction, Institution). Figures and names are invented.
 */

export type Json = Record<string, unknown>;

export const INSTITUTION_ID = 'ins_100001';
/** Capital One, the one institution where Plaid's balance call needs `min_last_updated_datetime`. */
export const CAPITAL_ONE_ID = 'ins_128026';
export const CHECKING_ID = 'chk4Rz8mQv1Lp0aXe7TnWy2Bc5Hd9Js3Kf6Gu';
export const CARD_ID = 'crd7Yp2Lx9Wq4Nm1Kz8Vb3Tc6Rd0Sf5Gh2Jk';

/** A one-pixel PNG, base64, standing in for an institution logo. */
export const LOGO_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

export const INSTITUTIONS: Json[] = [
  {
    institution_id: INSTITUTION_ID,
    name: 'Harbour Federal Bank',
    products: ['assets', 'auth', 'balance', 'identity', 'transactions'],
    country_codes: ['US'],
    url: 'https://harbour.example',
    primary_color: '#1f4e79',
    logo: LOGO_BASE64,
    routing_numbers: ['011000000'],
    dtc_numbers: [],
    oauth: false,
  },
  {
    institution_id: 'ins_100002',
    name: 'Harbourside Building Society',
    products: ['balance', 'transactions'],
    country_codes: ['GB'],
    url: 'https://harbourside.example',
    primary_color: '#006400',
    logo: null,
    routing_numbers: [],
    dtc_numbers: [],
    oauth: true,
  },
  {
    institution_id: 'ins_100003',
    name: 'Northern Lights Credit Union',
    products: ['balance', 'transactions'],
    country_codes: ['US', 'CA'],
    url: null,
    primary_color: null,
    logo: null,
    routing_numbers: ['021000000'],
    dtc_numbers: [],
    oauth: false,
  },
  {
    institution_id: 'ins_100004',
    name: 'Harbour Payments Only',
    products: ['auth', 'balance'],
    country_codes: ['US'],
    url: null,
    primary_color: null,
    logo: null,
    routing_numbers: [],
    dtc_numbers: [],
    oauth: false,
  },
];

export function fixtureAccounts(): Json[] {
  return [
    {
      account_id: CHECKING_ID,
      balances: {
        available: 1203.45,
        current: 1210.57,
        limit: null,
        iso_currency_code: 'USD',
        unofficial_currency_code: null,
      },
      mask: '0000',
      name: 'Everyday Checking',
      official_name: 'Harbour Everyday Checking Account',
      type: 'depository',
      subtype: 'checking',
      holder_category: 'personal',
    },
    {
      account_id: CARD_ID,
      balances: {
        available: 4589.66,
        current: 410.34,
        limit: 5000,
        iso_currency_code: 'USD',
        unofficial_currency_code: null,
      },
      mask: '3333',
      name: 'Harbour Rewards Card',
      official_name: null,
      type: 'credit',
      subtype: 'credit card',
      holder_category: 'personal',
    },
  ];
}

interface TransactionInput {
  id: string;
  account: string;
  amount: number;
  date: string;
  authorized?: string | null;
  datetime?: string | null;
  pending?: boolean;
  pendingId?: string | null;
  name: string;
  merchant?: string | null;
  category?: [string, string] | null;
}

/** A transaction in the full documented shape of /transactions/sync. */
export function transaction(input: TransactionInput): Json {
  return {
    account_id: input.account,
    account_owner: null,
    amount: input.amount,
    iso_currency_code: 'USD',
    unofficial_currency_code: null,
    check_number: null,
    counterparties: input.merchant
      ? [{ name: input.merchant, type: 'merchant', logo_url: null, website: null, entity_id: null }]
      : [],
    date: input.date,
    datetime: input.datetime ?? null,
    authorized_date: input.authorized === undefined ? input.date : input.authorized,
    authorized_datetime: null,
    location: {
      address: null,
      city: null,
      region: null,
      postal_code: null,
      country: null,
      lat: null,
      lon: null,
      store_number: null,
    },
    name: input.name,
    merchant_name: input.merchant ?? null,
    merchant_entity_id: null,
    logo_url: null,
    website: null,
    payment_meta: {
      by_order_of: null,
      payee: null,
      payer: null,
      payment_method: null,
      payment_processor: null,
      ppd_id: null,
      reason: null,
      reference_number: null,
    },
    payment_channel: 'in store',
    pending: input.pending ?? false,
    pending_transaction_id: input.pendingId ?? null,
    personal_finance_category: input.category
      ? { primary: input.category[0], detailed: input.category[1], confidence_level: 'HIGH' }
      : null,
    personal_finance_category_icon_url: null,
    transaction_id: input.id,
    transaction_code: null,
  };
}

export type SyncEvent =
  | { kind: 'added' | 'modified'; transaction: Json }
  | { kind: 'removed'; transaction_id: string; account_id: string };

export const added = (input: TransactionInput): SyncEvent => ({
  kind: 'added',
  transaction: transaction(input),
});
export const modified = (input: TransactionInput): SyncEvent => ({
  kind: 'modified',
  transaction: transaction(input),
});
export const removed = (id: string, account: string): SyncEvent => ({
  kind: 'removed',
  transaction_id: id,
  account_id: account,
});

export const COFFEE = {
  id: 'txnCoffee01',
  account: CHECKING_ID,
  amount: 4.33,
  date: '2026-05-02',
  authorized: '2026-05-01',
  name: 'CORNER COFFEE #12',
  merchant: 'Corner Coffee',
  category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_COFFEE'] as [string, string],
};
export const PAYROLL = {
  id: 'txnPayroll01',
  account: CHECKING_ID,
  amount: -2500,
  date: '2026-05-03',
  datetime: '2026-05-03T06:00:00Z',
  authorized: null,
  name: 'ACME CORP PAYROLL',
  merchant: null,
  category: ['INCOME', 'INCOME_WAGES'] as [string, string],
};
export const GROCERY_PENDING = {
  id: 'txnGroceryPending01',
  account: CHECKING_ID,
  amount: 89.4,
  date: '2026-05-04',
  authorized: '2026-05-04',
  pending: true,
  name: 'GREENLEAF MARKET',
  merchant: 'Greenleaf Market',
  category: ['FOOD_AND_DRINK', 'FOOD_AND_DRINK_GROCERIES'] as [string, string],
};
export const PARKING = {
  id: 'txnParking01',
  account: CHECKING_ID,
  // 0.30000000000000004 on the wire: the kind of float a careless sum produces.
  amount: 0.1 + 0.2,
  date: '2026-05-05',
  name: 'CITY PARKING METER',
  merchant: null,
  category: ['TRANSPORTATION', 'TRANSPORTATION_PARKING'] as [string, string],
};
export const BOOKSHOP = {
  id: 'txnBookshop01',
  account: CHECKING_ID,
  amount: 12.34,
  date: '2026-05-06',
  name: 'PAPER LANTERN BOOKS',
  merchant: null,
  category: null,
};
export const STREAMING = {
  id: 'txnStream01',
  account: CARD_ID,
  amount: 54.99,
  date: '2026-05-02',
  name: 'STREAMFLIX.COM',
  merchant: 'Streamflix',
  category: ['ENTERTAINMENT', 'ENTERTAINMENT_TV_AND_MOVIES'] as [string, string],
};
export const CARD_PAYMENT = {
  id: 'txnCardPayment01',
  account: CARD_ID,
  amount: -200,
  date: '2026-05-03',
  name: 'PAYMENT THANK YOU',
  merchant: null,
  category: ['LOAN_PAYMENTS', 'LOAN_PAYMENTS_CREDIT_CARD_PAYMENT'] as [string, string],
};
export const FUEL_PENDING = {
  id: 'txnFuelPending01',
  account: CARD_ID,
  amount: 15,
  date: '2026-05-06',
  pending: true,
  name: 'FUEL STOP 22',
  merchant: 'Fuel Stop',
  category: ['TRANSPORTATION', 'TRANSPORTATION_GAS'] as [string, string],
};

/** What an item holds when it is created: 5 checking and 3 card transactions, 2 pending. */
export function initialEvents(): SyncEvent[] {
  return [
    added(COFFEE),
    added(STREAMING),
    added(PAYROLL),
    added(GROCERY_PENDING),
    added(CARD_PAYMENT),
    added(PARKING),
    added(FUEL_PENDING),
    added(BOOKSHOP),
  ];
}

export const GROCERY_POSTED = {
  ...GROCERY_PENDING,
  id: 'txnGroceryPosted01',
  amount: 91.2,
  date: '2026-05-07',
  pending: false,
  pendingId: GROCERY_PENDING.id,
};
export const REFUND = {
  id: 'txnRefund01',
  account: CHECKING_ID,
  amount: -15.5,
  date: '2026-05-07',
  name: 'PAPER LANTERN BOOKS REFUND',
  merchant: 'Paper Lantern Books',
  category: ['GENERAL_MERCHANDISE', 'GENERAL_MERCHANDISE_BOOKSTORES_AND_NEWSSTANDS'] as [string, string],
};

/**
 * A day later on the checking account: the pending grocery posts under a new id (removed +
 * added with pending_transaction_id), the coffee is re-categorised, a refund arrives.
 */
export function laterEvents(): SyncEvent[] {
  return [
    removed(GROCERY_PENDING.id, CHECKING_ID),
    added(GROCERY_POSTED),
    modified({ ...COFFEE, merchant: 'Corner Coffee Roasters' }),
    added(REFUND),
  ];
}
