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
 * The largest amount, in minor units, that the API serves exactly: a decimal of up to 15
 * significant digits survives the round trip through a double, so 9,999,999,999,999.99 GBP
 * prints as written; past it a 2-decimal amount may print a minor unit off. Any real balance or
 * transaction is far below it.
 */
export const MAX_MINOR_UNITS = 10 ** 15 - 1;

/** An amount past `MAX_MINOR_UNITS`: a decimal number, but one the API could not show exactly. */
export class AmountOutOfRange extends RangeError {}

/**
 * Minor units to a JSON number in major units. Dividing an integer by a power of ten gives the
 * double nearest the exact decimal, which prints as that decimal (1234 GBP -> 12.34).
 */
export function toMajorUnits(minor: number, currency: string): number {
  if (!Number.isSafeInteger(minor)) throw new RangeError(`Amount ${minor} is not a safe integer`);
  return minor / 10 ** minorUnitExponent(currency);
}

/**
 * Major units (as a provider sends them, e.g. "-12.34" or 12.34) to signed integer minor units,
 * read as the decimal written: a number by its shortest round-trip form (`12.345` is "12.345",
 * never 12.3449999...). A provider amount with more decimals than the currency has (a bank's
 * "-12.345" GBP, a Plaid JPY amount of 1500.5) is rounded half away from zero, as banks round:
 * refusing it would fail every sync of the connection for one transaction.
 */
export function toMinorUnits(major: string | number, currency: string): number {
  const exponent = minorUnitExponent(currency);
  const text = typeof major === 'number' ? String(major) : major.trim();
  const match = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new RangeError(`Amount ${major} is not a decimal number`);
  const [, sign, wholeText = '0', fraction = '', power = '0'] = match;
  // The digits and where the decimal point falls in them, once any exponent is applied.
  const whole = wholeText.replace(/^0+(?=\d)/, '');
  const digits = whole + fraction;
  const point = whole.length + Number(power);
  if (point > 30) throw new AmountOutOfRange(`Amount ${major} is out of range`);
  // Every digit lies past the one that rounds to the minor unit (`1e-400`): nothing to pad.
  if (point < -exponent) return 0;
  const padded = point < 0 ? '0'.repeat(-point) + digits : digits;
  const at = Math.max(point, 0) + exponent;
  const kept = padded.padEnd(at, '0').slice(0, at) || '0';
  const roundUp = (padded[at] ?? '0') >= '5';
  const minor = Number(kept) + (roundUp ? 1 : 0);
  if (!(minor <= MAX_MINOR_UNITS)) throw new AmountOutOfRange(`Amount ${major} is out of range`);
  return sign === '-' && minor !== 0 ? -minor : minor;
}
