import { describe, expect, it } from 'vitest';
import {
  AmountOutOfRange,
  isCurrencyCode,
  MAX_MINOR_UNITS,
  minorUnitExponent,
  toMajorUnits,
  toMinorUnits,
} from '../src/money.js';

describe('money', () => {
  it('takes the minor-unit exponent from ISO 4217', () => {
    expect(minorUnitExponent('GBP')).toBe(2);
    expect(minorUnitExponent('JPY')).toBe(0);
    expect(minorUnitExponent('BHD')).toBe(3);
  });

  it('shows minor units as exact major-unit numbers', () => {
    expect(toMajorUnits(1234, 'GBP')).toBe(12.34);
    expect(String(toMajorUnits(1, 'GBP'))).toBe('0.01');
    expect(toMajorUnits(1234, 'JPY')).toBe(1234);
    expect(toMajorUnits(12345, 'BHD')).toBe(12.345);
    expect(String(toMajorUnits(-107188, 'GBP'))).toBe('-1071.88');
  });

  it('prints every two-decimal amount without float noise', () => {
    for (let minor = 0; minor < 100_000; minor += 7) {
      const text = String(toMajorUnits(minor, 'EUR'));
      expect(text.split('.')[1]?.length ?? 0).toBeLessThanOrEqual(2);
      expect(Math.round(Number(text) * 100)).toBe(minor);
    }
  });

  it('parses provider decimals into minor units without floats', () => {
    expect(toMinorUnits('12.34', 'GBP')).toBe(1234);
    expect(toMinorUnits('-0.5', 'GBP')).toBe(-50);
    expect(toMinorUnits('100', 'JPY')).toBe(100);
    expect(toMinorUnits('1.230', 'GBP')).toBe(123);
    expect(toMinorUnits(0.1 + 0.2, 'GBP')).toBe(30);
  });

  it('rounds amounts finer than the currency half away from zero, reading a number as the decimal it prints as', () => {
    expect(toMinorUnits('1.234', 'GBP')).toBe(123);
    expect(toMinorUnits('-12.345', 'GBP')).toBe(-1235);
    // As doubles these lie just below the half (1.00499..., 2.67499...): read as written.
    expect(toMinorUnits(1.005, 'GBP')).toBe(101);
    expect(toMinorUnits(2.675, 'GBP')).toBe(268);
    expect(toMinorUnits(1500.5, 'JPY')).toBe(1501);
    expect(toMinorUnits('1.2345', 'BHD')).toBe(1235);
    expect(toMinorUnits('-0.004', 'GBP')).toBe(0);
    expect(toMinorUnits(1e-7, 'GBP')).toBe(0);
    expect(toMinorUnits('1e3', 'GBP')).toBe(100000);
    expect(toMinorUnits('1e-2147483648', 'GBP')).toBe(0);
    expect(toMinorUnits('0.5e-2', 'GBP')).toBe(1);
    expect(toMinorUnits('000000000000000000000000000000012.34', 'GBP')).toBe(1234);
  });

  it('rejects what is not a decimal number, amounts out of range, and unknown currencies', () => {
    expect(() => toMinorUnits('abc', 'GBP')).toThrow(RangeError);
    expect(() => toMinorUnits(1e21, 'GBP')).toThrow(RangeError);
    expect(() => toMinorUnits('90071992547409.92', 'GBP')).toThrow(RangeError);
    expect(() => minorUnitExponent('ZZZ')).toThrow(RangeError);
    expect(isCurrencyCode('GBP')).toBe(true);
    expect(isCurrencyCode('gbp')).toBe(false);
  });

  it('takes amounts up to 15 digits of minor units, which print exactly, and no larger', () => {
    expect(toMinorUnits('9999999999999.99', 'GBP')).toBe(MAX_MINOR_UNITS);
    expect(String(toMajorUnits(MAX_MINOR_UNITS, 'GBP'))).toBe('9999999999999.99');
    expect(String(toMajorUnits(-MAX_MINOR_UNITS, 'KWD'))).toBe('-999999999999.999');
    // 2^52 and more minor units: as a double, 81632779087443.99 prints as ...98.
    expect(() => toMinorUnits('81632779087443.99', 'GBP')).toThrow(AmountOutOfRange);
    expect(() => toMinorUnits('10000000000000', 'GBP')).toThrow(AmountOutOfRange);
    expect(() => toMinorUnits('abc', 'GBP')).not.toThrow(AmountOutOfRange);
  });
});
