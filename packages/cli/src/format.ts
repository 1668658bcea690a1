/**
 * `1234567.5` as `1,234,567.5`, as `Intl.NumberFormat('en-US')` writes it (at most three
 * decimals), without it: the first use of Intl's number formatting maps ICU's locale data, which
 * was 7.5 MB of a record's resident memory.
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const rounded = Math.round(Math.abs(n) * 1000) / 1000;
  const [whole, fraction] = String(rounded).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${n < 0 ? '-' : ''}${grouped}${fraction ? `.${fraction}` : ''}`;
}
