/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Linear-interpolated quantile (q in [0, 1]) of a non-empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

/** Relative spread: (p90 − p10) / median, a simple noise figure for a set of repeated timings. */
export function spread(values: readonly number[]): number {
  const m = median(values);
  return m === 0 ? 0 : (quantile(values, 0.9) - quantile(values, 0.1)) / m;
}

export const fmt = (value: number, digits = 0): string => value.toFixed(digits);
