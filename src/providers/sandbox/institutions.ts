/** The sandbox's two fake banks: their currency, account names and account number formats. */
import type { AccountType } from '../provider.js';
import { hashDigits } from './prng.js';

export const INSTITUTION_IDS = ['sandbox-gb', 'sandbox-eu'] as const;
export type InstitutionId = (typeof INSTITUTION_IDS)[number];

export interface AccountIdentifiers {
  accountNumber: string;
  sortCode: string | null;
}

export interface Institution {
  id: InstitutionId;
  currency: 'GBP' | 'EUR';
  accountNames: Record<AccountType, string>;
  /** Deterministic account identifiers from a stable key (consent and account index). */
  identifiers(key: string): AccountIdentifiers;
}

/** The check digits that make `country + check + bban` a valid IBAN (ISO 13616, mod 97). */
export function ibanCheckDigits(country: string, bban: string): string {
  const remainder = mod97(`${bban}${country}00`);
  return String(98 - remainder).padStart(2, '0');
}

/** True for an IBAN in electronic form (no spaces, upper case) whose check digits are right. */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  return mod97(`${iban.slice(4)}${iban.slice(0, 4)}`) === 1;
}

/** The remainder mod 97 of the number spelt by `text`, letters counting A=10 .. Z=35. */
function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code >= 48 && code <= 57) {
      remainder = (remainder * 10 + (code - 48)) % 97;
    } else {
      remainder = (remainder * 100 + (code - 55)) % 97;
    }
  }
  return remainder;
}

const GB: Institution = {
  id: 'sandbox-gb',
  currency: 'GBP',
  accountNames: {
    CHECKING: 'Current Account',
    SAVINGS: 'Easy Saver',
    CREDIT: 'Credit Card',
    INVESTMENT: 'Stocks & Shares ISA',
  },
  identifiers(key) {
    return {
      accountNumber: hashDigits(`${key}|account-number`, 8),
      sortCode: `04${hashDigits(`${key}|sort-code`, 4)}`,
    };
  },
};

/** German IBANs: `DE`, 2 check digits, an 8-digit bank code and a 10-digit account number. */
const EU: Institution = {
  id: 'sandbox-eu',
  currency: 'EUR',
  accountNames: {
    CHECKING: 'Girokonto',
    SAVINGS: 'Tagesgeld',
    CREDIT: 'Kreditkarte',
    INVESTMENT: 'Wertpapierdepot',
  },
  identifiers(key) {
    const bban = `${hashDigits(`${key}|bank-code`, 8)}${hashDigits(`${key}|account-number`, 10)}`;
    return { accountNumber: `DE${ibanCheckDigits('DE', bban)}${bban}`, sortCode: null };
  },
};

export const INSTITUTIONS: Record<InstitutionId, Institution> = { 'sandbox-gb': GB, 'sandbox-eu': EU };

export function findInstitution(providerId: string): Institution | undefined {
  return (INSTITUTION_IDS as readonly string[]).includes(providerId)
    ? INSTITUTIONS[providerId as InstitutionId]
    : undefined;
}
