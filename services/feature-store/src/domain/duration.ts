import { type Result, err, ok } from '@mlops/core';

/** A duration as written in a definition: ISO-8601 ("PT24H", "P7D", "P1DT12H"), shorthand ("90s", "15m", "24h", "7d", "1w") or seconds. */
export type DurationInput = string | number;

const SECOND = 1000;
const UNIT_MS: Readonly<Record<string, number>> = {
  s: SECOND,
  m: 60 * SECOND,
  h: 3600 * SECOND,
  d: 86400 * SECOND,
  w: 7 * 86400 * SECOND,
};
const ISO_DURATION =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const SHORTHAND = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/;

/** Longest duration any definition may name (100 years); each use has its own, shorter bound (TTL, window). */
export const LONGEST_DURATION_MS = 100 * 365 * 86_400 * SECOND;

/**
 * Milliseconds of a positive duration of at most LONGEST_DURATION_MS, or why it is not one. Years and months are
 * refused: their length varies.
 */
export function parseDuration(input: DurationInput): Result<number, string> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input <= 0) return err(`duration ${input} is not a positive number of seconds`);
    return positive(input, input * SECOND);
  }
  const text = input.trim();
  const shorthand = SHORTHAND.exec(text);
  if (shorthand) return positive(input, Number(shorthand[1]) * (UNIT_MS[shorthand[2] as string] as number));
  if (/^P(?:\d+(?:\.\d+)?[YM])/.test(text))
    return err(`duration "${input}" uses years or months, whose length varies; use days or weeks`);
  const iso = ISO_DURATION.exec(text);
  if (!iso || text === 'P' || text.endsWith('T')) {
    return err(
      `duration "${input}" is neither ISO-8601 (e.g. PT24H, P7D) nor shorthand (e.g. 24h, 7d) nor a number of seconds`,
    );
  }
  const [, weeks, days, hours, minutes, seconds] = iso;
  const ms =
    Number(weeks ?? 0) * UNIT_MS.w! +
    Number(days ?? 0) * UNIT_MS.d! +
    Number(hours ?? 0) * UNIT_MS.h! +
    Number(minutes ?? 0) * UNIT_MS.m! +
    Number(seconds ?? 0) * SECOND;
  return positive(input, ms);
}

function positive(input: DurationInput, ms: number): Result<number, string> {
  const rounded = Math.round(ms);
  // 1e308 seconds or P99999999999999999999D: a number no clock or bucket count can hold.
  if (!Number.isFinite(rounded) || rounded > LONGEST_DURATION_MS)
    return err(`duration "${input}" is longer than the longest allowed (100 years)`);
  return rounded > 0 ? ok(rounded) : err(`duration "${input}" must be longer than zero`);
}
