/**
 * The words the insight tools read column names and types by: which logical types are numbers and times, which
 * names say "amount", and a word's singular.
 */
export const NUMERIC = new Set(['int16', 'int32', 'int64', 'float32', 'float64', 'decimal']);
export const TIME = new Set(['date', 'timestamp', 'timestamptz']);
export const AMOUNT =
  /(amount|price|total|revenue|cost|fee|balance|salary|spend|sales|value|paid|tax|discount|margin|profit)/i;

/** A word's singular, so `orders` meets `order_id` and a question's `customers` meets `customer`. */
export function singular(word: string): string {
  const w = word.toLowerCase();
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('ses') || w.endsWith('xes')) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}
