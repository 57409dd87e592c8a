import currencyCodes from 'currency-codes';

/**
 * Amounts are integers of minor units everywhere inside the service; only the HTTP edge shows
 * major units. The exponent comes from ISO 4217 (GBP 2, JPY 0, BHD 3).
 */

/** Exponents looked up so far: `currency-codes` searches its whole list, and a page converts 500 amounts. */
const exponents = new Map<string, number>();

export function minorUnitExponent(currency: string): number {
  const known = exponents.get(currency);
  if (known !== undefined) return known;
  const entry = currencyCodes.code(currency.toUpperCase());
  if (!entry) throw new RangeError(`Unknown ISO 4217 currency ${currency}`);
  exponents.set(currency, entry.digits);
  return entry.digits;
}

export function isCurrencyCode(currency: string): boolean {
  return /^[A-Z]{3}$/.test(currency) && currencyCodes.code(currency) !== undefined;
}

/**
 * Minor units to a JSON number in major units. Dividing an integer by a power of ten gives the
 * double nearest the exact decimal, which prints as that decimal (1234 GBP -> 12.34).
 */
export function toMajorUnits(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Amount ${minor} is not a safe integer`);
  return minor / 10 ** minorUnitExponent(currency);
}

/** Major units (as a provider sends them, e.g. "12.34" or 12.34) to integer minor units. */
export function toMinorUnits(major: string | number, currency: string): number {
  const exponent = minorUnitExponent(currency);
  const text = typeof major === 'number' ? major.toFixed(exponent) : major.trim();
  const match = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) throw new RangeError(`Amount ${major} is not a decimal number`);
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.replace(/0+$/, '').length > exponent) {
    throw new RangeError(`Amount ${major} has more than ${exponent} decimals for ${currency}`);
  }
  const minor = Number(whole + fraction.padEnd(exponent, '0').slice(0, exponent));
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Amount ${major} is out of range`);
  return sign === '-' ? -minor : minor;
}
