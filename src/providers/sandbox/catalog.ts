/**
 * What the sandbox's transactions look like: merchants, their categories and usual amounts, the
 * regular monthly payments, per institution and account type. Data only; no logic.
 */
import type { AccountType, TransactionType } from '../provider.js';
import type { InstitutionId } from './institutions.js';

/** The fixed vocabulary of sandbox categories (a transaction's category is one of these or null). */
export const SANDBOX_CATEGORIES = [
  'groceries',
  'eating_out',
  'transport',
  'shopping',
  'bills',
  'entertainment',
  'income',
  'transfers',
  'cash',
  'health',
  'travel',
] as const;
export type SandboxCategory = (typeof SANDBOX_CATEGORIES)[number];

export interface Template {
  description: string;
  category: SandboxCategory | null;
  type: TransactionType;
  /** Usual amount range, integer minor units, inclusive. */
  min: number;
  max: number;
  /** Amounts are multiples of this (cash machines give round sums). */
  step?: number;
  /** A card payment: may first appear as an authorisation hold. */
  card?: boolean;
  /** A restaurant: may book with a tip added to the pending amount. */
  tip?: boolean;
}

export interface Group {
  weight: number;
  templates: readonly Template[];
}

/** Per-account amounts that stay the same month after month. */
export type ProfileAmount = 'salary' | 'rent' | 'saving' | 'contribution' | 'interest';

export interface Scheduled {
  dayOfMonth: number;
  /** Only in months whose index (0 = January) modulo 3 is 2: March, June, September, December. */
  quarterly?: boolean;
  template: Template;
  /** Takes the amount from the account's profile instead of the template's range. */
  amount?: ProfileAmount;
}

export interface Catalog {
  random: Record<AccountType, readonly Group[]>;
  scheduled: Record<AccountType, readonly Scheduled[]>;
}

type Flags = Pick<Template, 'step' | 'card' | 'tip'>;

const debit = (
  description: string,
  category: SandboxCategory | null,
  min: number,
  max: number,
  flags: Flags = {},
): Template => ({ description, category, type: 'DEBIT', min, max, ...flags });

const credit = (
  description: string,
  category: SandboxCategory | null,
  min: number,
  max: number,
): Template => ({
  description,
  category,
  type: 'CREDIT',
  min,
  max,
});

const card = { card: true } as const;
const restaurant = { card: true, tip: true } as const;
const cash = { step: 1000 } as const;

/** A bank's everyday merchants, by what they sell. */
interface Merchants {
  groceries: readonly Template[];
  eatingOut: readonly Template[];
  transport: readonly Template[];
  shopping: readonly Template[];
  entertainment: readonly Template[];
  health: readonly Template[];
  travel: readonly Template[];
  misc: readonly Template[];
  refunds: readonly Template[];
}

/** Current accounts and credit cards spend alike at both banks, at each bank's merchants. */
function everydaySpending(
  merchants: Merchants,
  words: { cashWithdrawal: string; transferIn: string; sharedBill: string; transferOut: string },
): Pick<Catalog['random'], 'CHECKING' | 'CREDIT'> {
  return {
    CHECKING: [
      { weight: 28, templates: merchants.groceries },
      { weight: 16, templates: merchants.eatingOut },
      { weight: 14, templates: merchants.transport },
      { weight: 11, templates: merchants.shopping },
      { weight: 5, templates: merchants.entertainment },
      { weight: 4, templates: merchants.health },
      { weight: 3, templates: [debit(words.cashWithdrawal, 'cash', 1000, 20000, cash)] },
      { weight: 2, templates: merchants.travel },
      { weight: 6, templates: merchants.misc },
      {
        weight: 3,
        templates: [
          credit(words.transferIn, 'transfers', 1000, 10000),
          credit(words.sharedBill, null, 1000, 5000),
        ],
      },
      { weight: 2, templates: [debit(words.transferOut, 'transfers', 1000, 10000)] },
      { weight: 2, templates: merchants.refunds },
    ],
    CREDIT: [
      { weight: 30, templates: merchants.shopping },
      { weight: 15, templates: merchants.eatingOut },
      { weight: 10, templates: merchants.travel },
      { weight: 12, templates: merchants.groceries },
      { weight: 10, templates: merchants.entertainment },
      { weight: 8, templates: merchants.transport },
      { weight: 5, templates: merchants.misc },
      { weight: 5, templates: merchants.refunds },
    ],
  };
}

/** Transfers and interest are the same shape at both banks. */
function savingsAndInvestment(words: {
  toCurrent: string;
  fromCurrent: string;
  interest: string;
  deposit: string;
  withdrawal: string;
  dividend: string;
  fee: string;
}): Pick<Catalog['random'], 'SAVINGS' | 'INVESTMENT'> {
  return {
    SAVINGS: [
      { weight: 45, templates: [debit(words.toCurrent, 'transfers', 5000, 60000)] },
      { weight: 45, templates: [credit(words.fromCurrent, 'transfers', 5000, 60000)] },
      { weight: 10, templates: [credit(words.interest, 'income', 100, 2500)] },
    ],
    INVESTMENT: [
      { weight: 40, templates: [credit(words.deposit, 'transfers', 10000, 100000)] },
      { weight: 40, templates: [credit(words.dividend, 'income', 500, 15000)] },
      { weight: 10, templates: [debit(words.fee, 'bills', 300, 2500)] },
      { weight: 10, templates: [debit(words.withdrawal, 'transfers', 10000, 200000)] },
    ],
  };
}

const GB_SHARED: Merchants = {
  groceries: [
    debit('TESCO STORES 2231', 'groceries', 800, 6500, card),
    debit('TESCO EXPRESS 4418', 'groceries', 250, 1800, card),
    debit("SAINSBURY'S S/MKT", 'groceries', 900, 7500, card),
    debit('LIDL GB LONDON', 'groceries', 700, 4500, card),
    debit('ALDI 57 782', 'groceries', 700, 4000, card),
    debit('M&S SIMPLY FOOD', 'groceries', 400, 2500, card),
    debit('WAITROSE 412', 'groceries', 1200, 6000, card),
    debit('CO-OP GROUP 070934', 'groceries', 300, 1500, card),
  ],
  eatingOut: [
    debit('PRET A MANGER', 'eating_out', 350, 1200, card),
    debit('COSTA COFFEE 43011', 'eating_out', 280, 900, card),
    debit('GREGGS PLC', 'eating_out', 200, 800, card),
    debit('DELIVEROO', 'eating_out', 1500, 4500, card),
    debit('JUST EAT.CO.UK LTD', 'eating_out', 1500, 4000, card),
    debit('NANDOS', 'eating_out', 1800, 5500, restaurant),
    debit('PIZZA EXPRESS', 'eating_out', 2500, 7000, restaurant),
    debit('WAGAMAMA', 'eating_out', 2000, 6000, restaurant),
    debit('DISHOOM', 'eating_out', 3500, 9000, restaurant),
  ],
  transport: [
    debit('TFL TRAVEL CHARGE', 'transport', 280, 1500, card),
    debit('UBER *TRIP', 'transport', 700, 3500, card),
    debit('TRAINLINE.COM', 'transport', 1500, 12000, card),
    debit('SHELL 4471', 'transport', 3000, 8500, card),
    debit('BP 0231 CONNECT', 'transport', 3000, 8000, card),
    debit('NCP LTD', 'transport', 400, 2500, card),
  ],
  shopping: [
    debit('AMAZON MKTPLACE', 'shopping', 600, 8000, card),
    debit('AMAZON.CO.UK', 'shopping', 500, 6000, card),
    debit('ARGOS LTD', 'shopping', 1000, 12000, card),
    debit('JOHN LEWIS', 'shopping', 2000, 25000, card),
    debit('PRIMARK', 'shopping', 800, 5000, card),
    debit('IKEA LTD', 'shopping', 1500, 20000, card),
  ],
  entertainment: [
    debit('CINEWORLD', 'entertainment', 900, 3000, card),
    debit('STEAMGAMES.COM', 'entertainment', 500, 6000, card),
    debit('TICKETMASTER UK', 'entertainment', 3000, 15000, card),
    debit('APPLE.COM/BILL', 'entertainment', 99, 1499, card),
  ],
  health: [
    debit('BOOTS 1123', 'health', 300, 3500, card),
    debit('LLOYDS PHARMACY', 'health', 300, 2500, card),
    debit('SPECSAVERS', 'health', 2000, 15000, card),
  ],
  travel: [
    debit('EASYJET', 'travel', 4000, 30000, card),
    debit('BOOKING.COM', 'travel', 6000, 45000, card),
    debit('PREMIER INN', 'travel', 5000, 15000, card),
  ],
  misc: [
    debit('PAYPAL *EBAY', null, 500, 6000, card),
    debit('SUMUP *MARKET STALL', null, 300, 2500, card),
    debit('SQ *CORNER CAFE', null, 250, 1200, card),
  ],
  refunds: [
    credit('AMAZON.CO.UK REFUND', 'shopping', 500, 5000),
    credit('ASOS.COM REFUND', 'shopping', 1500, 8000),
  ],
};

const GB: Catalog = {
  random: {
    ...everydaySpending(GB_SHARED, {
      cashWithdrawal: 'CASH WITHDRAWAL LINK ATM',
      transferIn: 'FASTER PAYMENT FROM J SMITH',
      sharedBill: 'A BROWN - DINNER',
      transferOut: 'TO J SMITH - FASTER PAYMENT',
    }),
    ...savingsAndInvestment({
      toCurrent: 'TRANSFER TO CURRENT ACCOUNT',
      fromCurrent: 'TRANSFER FROM CURRENT ACCOUNT',
      interest: 'INTEREST PAID',
      deposit: 'DEPOSIT FROM CURRENT ACCOUNT',
      withdrawal: 'WITHDRAWAL TO CURRENT ACCOUNT',
      dividend: 'DIVIDEND VANGUARD FTSE GLOBAL',
      fee: 'PLATFORM FEE',
    }),
  },
  scheduled: {
    CHECKING: [
      { dayOfMonth: 1, template: debit('FOXTONS RENT DD', 'bills', 0, 0), amount: 'rent' },
      { dayOfMonth: 3, template: debit('LBH COUNCIL TAX', 'bills', 12000, 16000) },
      { dayOfMonth: 5, template: debit('CREDIT CARD PAYMENT', 'transfers', 15000, 60000) },
      { dayOfMonth: 8, template: debit('OCTOPUS ENERGY', 'bills', 6000, 14000) },
      { dayOfMonth: 12, template: debit('VODAFONE LTD', 'bills', 1500, 3500) },
      { dayOfMonth: 15, template: debit('BT GROUP PLC', 'bills', 3000, 4500) },
      { dayOfMonth: 17, template: debit('NETFLIX.COM', 'entertainment', 1099, 1099, card) },
      { dayOfMonth: 20, template: debit('PUREGYM', 'health', 2499, 2499, card) },
      { dayOfMonth: 25, template: credit('ACME LTD SALARY', 'income', 0, 0), amount: 'salary' },
      { dayOfMonth: 26, template: debit('TRANSFER TO EASY SAVER', 'transfers', 0, 0), amount: 'saving' },
    ],
    SAVINGS: [
      { dayOfMonth: 1, template: credit('INTEREST PAID', 'income', 0, 0), amount: 'interest' },
      {
        dayOfMonth: 26,
        template: credit('TRANSFER FROM CURRENT ACCOUNT', 'transfers', 0, 0),
        amount: 'saving',
      },
    ],
    CREDIT: [{ dayOfMonth: 5, template: credit('PAYMENT RECEIVED - THANK YOU', 'transfers', 15000, 60000) }],
    INVESTMENT: [
      {
        dayOfMonth: 2,
        template: credit('ISA MONTHLY CONTRIBUTION', 'transfers', 0, 0),
        amount: 'contribution',
      },
      {
        dayOfMonth: 15,
        quarterly: true,
        template: credit('DIVIDEND VANGUARD FTSE GLOBAL', 'income', 2000, 15000),
      },
    ],
  },
};

const EU_SHARED: Merchants = {
  groceries: [
    debit('REWE MARKT GMBH', 'groceries', 800, 6500, card),
    debit('EDEKA CENTER', 'groceries', 900, 7000, card),
    debit('LIDL DIENSTL GMBH', 'groceries', 700, 4500, card),
    debit('ALDI SUED', 'groceries', 700, 4000, card),
    debit('CARREFOUR CITY', 'groceries', 500, 3500, card),
    debit('DM-DROGERIE MARKT', 'groceries', 300, 2500, card),
  ],
  eatingOut: [
    debit('STARBUCKS', 'eating_out', 300, 900, card),
    debit('MCDONALDS', 'eating_out', 600, 1800, card),
    debit('LIEFERANDO.DE', 'eating_out', 1500, 4500, card),
    debit('BACKWERK', 'eating_out', 200, 900, card),
    debit('VAPIANO', 'eating_out', 1500, 4500, restaurant),
    debit('BLOCK HOUSE', 'eating_out', 3000, 8000, restaurant),
    debit('TRATTORIA DA MARIO', 'eating_out', 2500, 7500, restaurant),
  ],
  transport: [
    debit('DB VERTRIEB GMBH', 'transport', 1500, 15000, card),
    debit('SNCF', 'transport', 2000, 12000, card),
    debit('MVG MUENCHEN', 'transport', 300, 1500, card),
    debit('ARAL STATION 2817', 'transport', 3000, 9000, card),
    debit('SHELL 1093', 'transport', 3000, 8500, card),
    debit('FREENOW', 'transport', 800, 3500, card),
  ],
  shopping: [
    debit('AMAZON EU SARL', 'shopping', 600, 8000, card),
    debit('ZALANDO SE', 'shopping', 2000, 15000, card),
    debit('MEDIAMARKT', 'shopping', 2000, 40000, card),
    debit('IKEA DEUTSCHLAND', 'shopping', 1500, 25000, card),
    debit('H&M', 'shopping', 1000, 6000, card),
  ],
  entertainment: [
    debit('CINESTAR', 'entertainment', 900, 3000, card),
    debit('EVENTIM', 'entertainment', 3000, 15000, card),
    debit('APPLE.COM/BILL', 'entertainment', 99, 1499, card),
  ],
  health: [
    debit('APOTHEKE AM MARKT', 'health', 300, 3500, card),
    debit('FIELMANN', 'health', 2000, 20000, card),
    debit('PHARMACIE CENTRALE', 'health', 400, 2500, card),
  ],
  travel: [
    debit('RYANAIR', 'travel', 3000, 25000, card),
    debit('LUFTHANSA', 'travel', 8000, 60000, card),
    debit('BOOKING.COM', 'travel', 6000, 45000, card),
    debit('AIRBNB', 'travel', 8000, 60000, card),
  ],
  misc: [debit('PAYPAL *EBAY', null, 500, 6000, card), debit('SUMUP *MARKTSTAND', null, 300, 2500, card)],
  refunds: [
    credit('AMAZON EU SARL ERSTATTUNG', 'shopping', 500, 5000),
    credit('ZALANDO SE RETOURE', 'shopping', 2000, 9000),
  ],
};

const EU: Catalog = {
  random: {
    ...everydaySpending(EU_SHARED, {
      cashWithdrawal: 'BARGELDAUSZAHLUNG GA',
      transferIn: 'UEBERWEISUNG VON J SCHMIDT',
      sharedBill: 'A MUELLER ABENDESSEN',
      transferOut: 'UEBERWEISUNG AN J SCHMIDT',
    }),
    ...savingsAndInvestment({
      toCurrent: 'UEBERTRAG AUF GIROKONTO',
      fromCurrent: 'UEBERTRAG VON GIROKONTO',
      interest: 'ZINSGUTSCHRIFT',
      deposit: 'EINZAHLUNG VON GIROKONTO',
      withdrawal: 'AUSZAHLUNG AUF GIROKONTO',
      dividend: 'DIVIDENDE ISHARES MSCI WORLD',
      fee: 'DEPOTGEBUEHR',
    }),
  },
  scheduled: {
    CHECKING: [
      { dayOfMonth: 1, template: debit('DAUERAUFTRAG MIETE', 'bills', 0, 0), amount: 'rent' },
      { dayOfMonth: 5, template: debit('KREDITKARTENABRECHNUNG', 'transfers', 15000, 60000) },
      { dayOfMonth: 8, template: debit('STADTWERKE STROM GAS', 'bills', 6000, 14000) },
      { dayOfMonth: 12, template: debit('TELEKOM DEUTSCHLAND GMBH', 'bills', 2500, 5000) },
      { dayOfMonth: 15, template: debit('VODAFONE GMBH', 'bills', 1500, 3500) },
      { dayOfMonth: 17, template: debit('NETFLIX.COM', 'entertainment', 1399, 1399, card) },
      { dayOfMonth: 20, template: debit('MCFIT GMBH', 'health', 2990, 2990, card) },
      { dayOfMonth: 25, template: credit('GEHALT ACME SE', 'income', 0, 0), amount: 'salary' },
      { dayOfMonth: 26, template: debit('UEBERTRAG AUF TAGESGELD', 'transfers', 0, 0), amount: 'saving' },
    ],
    SAVINGS: [
      { dayOfMonth: 1, template: credit('ZINSGUTSCHRIFT', 'income', 0, 0), amount: 'interest' },
      { dayOfMonth: 26, template: credit('UEBERTRAG VON GIROKONTO', 'transfers', 0, 0), amount: 'saving' },
    ],
    CREDIT: [{ dayOfMonth: 5, template: credit('AUSGLEICH KREDITKARTE', 'transfers', 15000, 60000) }],
    INVESTMENT: [
      { dayOfMonth: 2, template: credit('SPARPLAN ETF', 'transfers', 0, 0), amount: 'contribution' },
      {
        dayOfMonth: 15,
        quarterly: true,
        template: credit('DIVIDENDE ISHARES MSCI WORLD', 'income', 2000, 15000),
      },
    ],
  },
};

export const CATALOGS: Record<InstitutionId, Catalog> = { 'sandbox-gb': GB, 'sandbox-eu': EU };
