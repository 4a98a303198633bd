// Turns what a program returned into a number: int, float, Fraction/Decimal, or a numeric string like "1,000" or "$12.50".

/** The value a program returned, as described by the sandbox's Python side. */
export interface RawValue {
  type: string;
  /** Decimal text for numbers, the string itself for str. */
  value?: string;
  /** repr() for values that are not numbers or strings. */
  repr?: string;
  real?: number;
  imag?: number;
  exact?: string;
}

/** A normalized value or why it is not a number. */
export type Normalized = { ok: true; value: number } | { ok: false; message: string };

const NUMERIC_STRING = /^[-+−]?\s*[$€£]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?\s*(?:%|[a-zA-Z]{0,12}\.?)?$/;

/**
 * Parses a numeric answer string: "42", "-3.5", "1,000", "$1,234.50", "15%", "12 dollars" → the number;
 * undefined for anything else (several numbers, words only, empty).
 */
export function parseNumericString(s: string): number | undefined {
  const t = s.trim().replace(/\u2212/g, '-');
  if (!t || !NUMERIC_STRING.test(t)) return undefined;
  const m = /^([-+]?)\s*[$€£]?\s*((?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?)/.exec(t);
  if (!m || !m[2] || !/\d/.test(m[2])) return undefined;
  const n = Number(m[1] + m[2].replace(/,/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** Normalizes a returned value: bools, None, containers, NaN/inf and non-numeric strings are failures. */
export function normalizeValue(v: RawValue): Normalized {
  switch (v.type) {
    case 'bool':
      return { ok: false, message: `returned a bool (${v.repr}), not a number` };
    case 'int':
    case 'float':
    case 'Fraction':
    case 'Decimal': {
      const n = Number(v.value);
      return Number.isFinite(n) ? { ok: true, value: n } : { ok: false, message: `returned ${v.value}, not a finite number` };
    }
    case 'str': {
      const n = parseNumericString(v.value ?? '');
      return n === undefined ? { ok: false, message: `returned the string ${JSON.stringify((v.value ?? '').slice(0, 60))}, not a number` } : { ok: true, value: n };
    }
    case 'complex':
      return v.imag === 0 && Number.isFinite(v.real) ? { ok: true, value: v.real! } : { ok: false, message: 'returned a complex number' };
    default:
      if (v.value !== undefined) {
        const n = Number(v.value);
        if (Number.isFinite(n)) return { ok: true, value: n };
      }
      return { ok: false, message: `returned ${v.type}${v.repr ? ` ${v.repr.slice(0, 60)}` : ''}, not a number` };
  }
}

/** Whether a computed answer matches the gold one: |a-b| <= max(abs, rel*|b|) (default 1e-4 absolute, 1e-6 relative). */
export function answersMatch(predicted: number, gold: number, absTol = 1e-4, relTol = 1e-6): boolean {
  if (!Number.isFinite(predicted) || !Number.isFinite(gold)) return false;
  return Math.abs(predicted - gold) <= Math.max(absTol, relTol * Math.abs(gold));
}
