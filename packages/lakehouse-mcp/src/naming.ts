/** Names of bronze tables and columns: one rule for both, so a model can guess one from the other. */
/**
 * The one naming rule for bronze tables and columns, from anything a person might call them: accents dropped,
 * camelCase split (`IssuedAt` → `issued_at`, `customerID` → `customer_id`), lowercase letters, digits and
 * underscores (`Gift Cards` → `gift_cards`), at most 63 characters, never starting with a digit (`t_` before a
 * table name, `c_` before a column name). The original spelling is kept in the catalog.
 */
export function normalizeName(raw: string, kind: 'table' | 'column'): string {
  let name = raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (!name) name = kind;
  if (!/^[a-z]/.test(name)) name = `${kind === 'table' ? 't' : 'c'}_${name}`;
  return name.slice(0, 63);
}

/** A table name by the naming rule. */
export function sanitizeTableName(raw: string): string {
  return normalizeName(raw, 'table');
}

/** Bronze names for a table's columns by the naming rule; two that would clash get `_2`, `_3`… */
export function bronzeColumnNames(names: readonly string[]): string[] {
  const taken = new Set<string>();
  return names.map((raw) => {
    const base = normalizeName(raw, 'column');
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 60)}_${i}`;
    taken.add(name);
    return name;
  });
}
