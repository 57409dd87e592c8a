/**
 * Small, fast, deterministic number generation for the sandbox. Strings are hashed once with
 * SHA-256 into 32-bit words; everything per day and per transaction is derived from those
 * words with cheap integer mixing, so that any single transaction can be generated on its own.
 */
import { createHash } from 'node:crypto';

/** Eight 32-bit words of the SHA-256 of `text`. */
export function hashWords(text: string): number[] {
  const digest = createHash('sha256').update(text).digest();
  const words: number[] = [];
  for (let i = 0; i < 32; i += 4) words.push(digest.readUInt32BE(i));
  return words;
}

/** `length` decimal digits taken from the SHA-256 of `text` (up to 64). */
export function hashDigits(text: string, length: number): string {
  const digest = createHash('sha256').update(text).digest();
  let digits = '';
  for (let i = 0; i < length; i++) digits += String((digest[i % 32] ?? 0) % 10);
  return digits;
}

/** A 32-bit avalanche finaliser: every input bit flips about half of the output bits. */
export function mix32(value: number): number {
  let x = value >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Combines a seed with an integer (which may be negative) into a new seed. */
export function combine(seed: number, value: number): number {
  return mix32((seed ^ Math.imul(value | 0, 0x9e3779b1)) + 0x7f4a7c15);
}

/** A tiny 32-bit state generator (mulberry32 style): fast, good enough for fake data. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/**
 * A keyed permutation of pairs of 32-bit words (a four-round Feistel network). Being a
 * bijection, distinct inputs under one key never collide, which makes it a cheap source of
 * unique, random-looking ids.
 */
export function permute(keys: readonly number[], high: number, low: number): [number, number] {
  let left = high >>> 0;
  let right = low >>> 0;
  for (const key of keys) {
    const next = (left ^ mix32(right ^ key)) >>> 0;
    left = right;
    right = next;
  }
  return [left, right];
}

export const hex8 = (value: number): string => (value >>> 0).toString(16).padStart(8, '0');
