// Number formatting shared by the text and HTML reports of bench and load.

/** 3 significant-ish digits, whatever the magnitude. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}
