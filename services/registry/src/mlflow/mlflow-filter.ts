// MLflow's registry search filters, the part its clients send: clauses joined by AND, each `<key> <op> <value>` with
// keys `name`, `run_id`, `version_number`, `source_path`, `tags.<key>` / `tag.<key>` (backquotes allowed), ops
// `= != LIKE ILIKE IN NOT IN`, values in single or double quotes (IN: a parenthesised list).
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';

export type FilterOp = '=' | '!=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface FilterClause {
  readonly key: string;
  /** `tag` for `tags.<key>`, `attribute` otherwise. */
  readonly kind: 'attribute' | 'tag';
  readonly op: FilterOp;
  readonly values: readonly string[];
}

export type InvalidFilter = DomainError<'invalid_parameter'>;

const CLAUSE =
  /^\s*(?<key>`[^`]+`|(?:tags?\.)?(?:`[^`]+`|[A-Za-z_][\w.]*))\s*(?<op>!=|=|NOT\s+IN\b|IN\b|ILIKE\b|LIKE\b)\s*(?<value>'(?:[^']|'')*'|"(?:[^"]|"")*"|\((?:\s*(?:'(?:[^']|'')*'|"(?:[^"]|"")*")\s*,?)*\s*\))\s*(?:AND\b|$)/i;
const QUOTED = /'((?:[^']|'')*)'|"((?:[^"]|"")*)"/g;

const unquote = (value: string): string[] =>
  [...value.matchAll(QUOTED)].map((m) =>
    m[1] !== undefined ? m[1].replace(/''/g, "'") : (m[2] ?? '').replace(/""/g, '"'),
  );

/** The clauses of a filter string (empty: no filter), or INVALID_PARAMETER_VALUE saying where it stopped. */
export function parseFilter(
  filter: string | undefined,
  attributes: readonly string[],
): Result<FilterClause[], InvalidFilter> {
  const clauses: FilterClause[] = [];
  let rest = (filter ?? '').trim();
  while (rest.length > 0) {
    const match = CLAUSE.exec(rest);
    if (!match?.groups) return err(domainError('invalid_parameter', `Invalid filter string at: ${rest.slice(0, 80)}`));
    const rawKey = match.groups.key as string;
    const op = (match.groups.op as string).toUpperCase().replace(/\s+/g, ' ') as FilterOp;
    const rawValue = match.groups.value as string;
    const tag = /^tags?\./i.exec(rawKey);
    const key = (tag ? rawKey.slice(tag[0].length) : rawKey).replace(/^`|`$/g, '');
    const isList = rawValue.startsWith('(');
    if (isList !== (op === 'IN' || op === 'NOT IN')) {
      return err(domainError('invalid_parameter', `Invalid filter: ${op} needs ${isList ? 'one value' : 'a list'}`));
    }
    if (!tag && !attributes.includes(key)) {
      return err(
        domainError(
          'invalid_parameter',
          `Invalid filter: unknown key '${key}' (searchable: ${attributes.join(', ')}, tags.<key>)`,
        ),
      );
    }
    clauses.push({ key, kind: tag ? 'tag' : 'attribute', op, values: unquote(rawValue) });
    rest = rest.slice(match[0].length).trim();
  }
  return ok(clauses);
}

const likeRegex = (pattern: string, caseInsensitive: boolean): RegExp =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    caseInsensitive ? 'si' : 's',
  );

/** Whether a value (undefined: the key is absent) satisfies a clause; an absent tag only satisfies `!=` and NOT IN. */
export function matchesClause(clause: FilterClause, value: string | undefined): boolean {
  const first = clause.values[0] ?? '';
  switch (clause.op) {
    case '=':
      return value === first;
    case '!=':
      return value !== first;
    case 'LIKE':
      return value !== undefined && likeRegex(first, false).test(value);
    case 'ILIKE':
      return value !== undefined && likeRegex(first, true).test(value);
    case 'IN':
      return value !== undefined && clause.values.includes(value);
    case 'NOT IN':
      return value === undefined || !clause.values.includes(value);
  }
}

/** Every clause holds for the item: `valueOf(clause)` reads the attribute or tag it names. */
export function matchesAll(
  clauses: readonly FilterClause[],
  valueOf: (clause: FilterClause) => string | undefined,
): boolean {
  return clauses.every((clause) => matchesClause(clause, valueOf(clause)));
}

/** Page tokens: the offset of the next page, opaque to the client. */
export const pageTokenOf = (offset: number): string => Buffer.from(JSON.stringify({ offset })).toString('base64');

export function offsetOf(token: string | undefined): Result<number, InvalidFilter> {
  if (token === undefined || token === '') return ok(0);
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) {
      return ok(parsed.offset);
    }
  } catch {
    // answered below
  }
  return err(domainError('invalid_parameter', 'Invalid page_token'));
}
