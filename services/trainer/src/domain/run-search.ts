// MLflow's search grammar for runs and experiments, reduced to what teams write: comparisons on metrics, params,
// tags and attributes joined by AND, and order_by clauses. Pure: parsing and evaluation, no storage.
import { type Result, err, ok } from '@mlops/core';

export type Entity = 'metric' | 'param' | 'tag' | 'attribute';
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Clause {
  readonly entity: Entity;
  readonly key: string;
  readonly comparator: Comparator;
  readonly value: string | number | readonly string[];
}

export interface OrderClause {
  readonly entity: Entity;
  readonly key: string;
  readonly ascending: boolean;
}

/** What a clause is compared against: a run's (or an experiment's) values by entity. */
export interface Searchable {
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, string | number | null>>;
}

export interface SearchSyntaxError {
  readonly kind: 'invalid_search';
  readonly message: string;
}

const ENTITY_PREFIXES: Record<string, Entity> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};

/** MLflow spells some attributes two ways. */
const ATTRIBUTE_ALIASES: Record<string, string> = {
  run_uuid: 'run_id',
  id: 'run_id',
  'run name': 'run_name',
  created: 'start_time',
  Created: 'start_time',
};

type Token =
  | { type: 'identifier'; text: string }
  | { type: 'string'; text: string }
  | { type: 'number'; value: number }
  | { type: 'operator'; text: string }
  | { type: 'punct'; text: '(' | ')' | ',' };

const syntaxError = (message: string): SearchSyntaxError => ({ kind: 'invalid_search', message });

function tokenize(input: string): Result<Token[], SearchSyntaxError> {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i] as string;
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === "'" || char === '"') {
      const end = input.indexOf(char, i + 1);
      if (end < 0) return err(syntaxError(`unterminated string at position ${i}`));
      tokens.push({ type: 'string', text: input.slice(i + 1, end) });
      i = end + 1;
    } else if (char === '(' || char === ')' || char === ',') {
      tokens.push({ type: 'punct', text: char });
      i += 1;
    } else if ('=!<>'.includes(char)) {
      const two = input.slice(i, i + 2);
      const op = ['!=', '>=', '<=', '<>'].includes(two) ? two : char;
      if (op === '!') return err(syntaxError(`unexpected "!" at position ${i}`));
      tokens.push({ type: 'operator', text: op === '<>' ? '!=' : op });
      i += op.length;
    } else if (/[-+0-9.]/.test(char) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.test(input.slice(i))) {
      const match = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(input.slice(i)) as RegExpExecArray;
      tokens.push({ type: 'number', value: Number(match[0]) });
      i += match[0].length;
    } else {
      // An identifier: dotted segments, each bare or in backticks (MLflow quotes keys with spaces or dots so).
      let text = '';
      while (i < input.length) {
        const c = input[i] as string;
        if (c === '`') {
          const end = input.indexOf('`', i + 1);
          if (end < 0) return err(syntaxError(`unterminated backtick at position ${i}`));
          text += `\u0000${input.slice(i + 1, end)}\u0000`;
          i = end + 1;
        } else if (/[A-Za-z0-9_.\-/:]/.test(c)) {
          text += c;
          i += 1;
        } else if (c === '"' && text.endsWith('.')) {
          const end = input.indexOf('"', i + 1);
          if (end < 0) return err(syntaxError(`unterminated string at position ${i}`));
          text += `\u0000${input.slice(i + 1, end)}\u0000`;
          i = end + 1;
        } else break;
      }
      if (text === '') return err(syntaxError(`unexpected "${char}" at position ${i}`));
      tokens.push({ type: 'identifier', text });
    }
  }
  return ok(tokens);
}

/** `metrics.auc`, `tags."mlflow.runName"`, `params.\`max depth\``, `status` (an attribute). */
function keyOf(identifier: string, bareEntity: Entity): { entity: Entity; key: string } {
  const unquote = (s: string): string => s.split('\u0000').join('');
  const quoted = identifier.indexOf('\u0000');
  const firstDot = identifier.indexOf('.');
  if (firstDot > 0 && (quoted < 0 || firstDot < quoted)) {
    const prefix = identifier.slice(0, firstDot);
    const entity = ENTITY_PREFIXES[prefix.toLowerCase()];
    if (entity) {
      const key = unquote(identifier.slice(firstDot + 1));
      return { entity, key: entity === 'attribute' ? (ATTRIBUTE_ALIASES[key] ?? key) : key };
    }
  }
  const key = unquote(identifier);
  return { entity: bareEntity, key: bareEntity === 'attribute' ? (ATTRIBUTE_ALIASES[key] ?? key) : key };
}

/**
 * Parses a filter such as `metrics.auc > 0.8 AND params.algorithm = 'gbdt' AND tags."team" != 'x'`.
 * An empty filter is no clause. A bare identifier is an attribute (`status = 'FINISHED'`, `name LIKE 'a%'`).
 */
export function parseFilter(filter: string | undefined): Result<Clause[], SearchSyntaxError> {
  if (filter === undefined || filter.trim() === '') return ok([]);
  const tokenized = tokenize(filter);
  if (!tokenized.ok) return tokenized;
  const tokens = tokenized.value;
  const clauses: Clause[] = [];
  let i = 0;
  const next = (): Token | undefined => tokens[i++];
  while (i < tokens.length) {
    const subject = next();
    if (subject?.type !== 'identifier') return err(syntaxError('expected a key such as metrics.auc'));
    const { entity, key } = keyOf(subject.text, 'attribute');
    let comparatorToken = next();
    let comparator: Comparator;
    if (comparatorToken?.type === 'operator') comparator = comparatorToken.text as Comparator;
    else if (comparatorToken?.type === 'identifier') {
      const word = comparatorToken.text.toUpperCase();
      if (word === 'NOT') {
        comparatorToken = next();
        if (comparatorToken?.type !== 'identifier' || comparatorToken.text.toUpperCase() !== 'IN')
          return err(syntaxError(`expected IN after NOT for ${key}`));
        comparator = 'NOT IN';
      } else if (word === 'LIKE' || word === 'ILIKE' || word === 'IN') comparator = word;
      else return err(syntaxError(`unknown comparator "${comparatorToken.text}" for ${key}`));
    } else return err(syntaxError(`expected a comparator after ${key}`));

    let value: Clause['value'];
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (next()?.type !== 'punct') return err(syntaxError(`expected "(" after ${comparator}`));
      const values: string[] = [];
      for (;;) {
        const item = next();
        if (item?.type !== 'string') return err(syntaxError(`${comparator} takes quoted strings`));
        values.push(item.text);
        const separator = next();
        if (separator?.type === 'punct' && separator.text === ')') break;
        if (separator?.type !== 'punct' || separator.text !== ',') return err(syntaxError('expected "," or ")"'));
      }
      value = values;
    } else {
      const token = next();
      if (token?.type === 'number') value = token.value;
      else if (token?.type === 'string') value = token.text;
      else return err(syntaxError(`expected a value after ${key} ${comparator}`));
    }
    if (entity === 'metric' && typeof value !== 'number')
      return err(syntaxError(`metrics.${key} is compared with a number, not ${JSON.stringify(value)}`));
    if ((entity === 'param' || entity === 'tag') && typeof value === 'number')
      return err(syntaxError(`${entity}s.${key} is compared with a quoted string`));
    if (entity === 'metric' && ['LIKE', 'ILIKE', 'IN', 'NOT IN'].includes(comparator))
      return err(syntaxError(`metrics.${key} takes =, !=, <, <=, >, >=`));
    if ((entity === 'param' || entity === 'tag') && ['>', '>=', '<', '<='].includes(comparator))
      return err(syntaxError(`${entity}s.${key} takes =, !=, LIKE, ILIKE, IN`));
    clauses.push({ entity, key, comparator, value });
    if (i < tokens.length) {
      const joiner = next();
      if (joiner?.type !== 'identifier' || joiner.text.toUpperCase() !== 'AND')
        return err(syntaxError('clauses are joined by AND (OR is not supported)'));
    }
  }
  return ok(clauses);
}

/** Parses order_by entries such as `metrics.auc DESC`, `attributes.start_time`, `params.depth ASC`. */
export function parseOrderBy(entries: readonly string[] | undefined): Result<OrderClause[], SearchSyntaxError> {
  const clauses: OrderClause[] = [];
  for (const entry of entries ?? []) {
    const match = /^(.*?)(?:\s+(ASC|DESC))?\s*$/i.exec(entry.trim());
    const subject = match?.[1] ?? '';
    const tokenized = tokenize(subject);
    if (!tokenized.ok) return tokenized;
    const [only, ...rest] = tokenized.value;
    if (only?.type !== 'identifier' || rest.length > 0) return err(syntaxError(`invalid order_by "${entry}"`));
    const { entity, key } = keyOf(only.text, 'attribute');
    clauses.push({ entity, key, ascending: (match?.[2] ?? 'ASC').toUpperCase() === 'ASC' });
  }
  return ok(clauses);
}

function valueOf(item: Searchable, entity: Entity, key: string): string | number | null | undefined {
  switch (entity) {
    case 'metric':
      return item.metrics[key];
    case 'param':
      return item.params[key];
    case 'tag':
      return item.tags[key];
    case 'attribute':
      return item.attributes[key];
  }
}

function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

function holds(clause: Clause, actual: string | number | null | undefined): boolean {
  if (actual === undefined || actual === null) return false;
  const expected = clause.value;
  switch (clause.comparator) {
    case 'IN':
      return (expected as readonly string[]).includes(String(actual));
    case 'NOT IN':
      return !(expected as readonly string[]).includes(String(actual));
    case 'LIKE':
      return likeToRegExp(String(expected), false).test(String(actual));
    case 'ILIKE':
      return likeToRegExp(String(expected), true).test(String(actual));
    default:
      break;
  }
  const [a, b] =
    typeof expected === 'number' ? [Number(actual), expected] : [String(actual), String(expected as string)];
  switch (clause.comparator) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    default:
      return a <= b;
  }
}

/** Whether every clause holds; a clause on a key the item lacks does not hold (as in MLflow). */
export function matches(item: Searchable, clauses: readonly Clause[]): boolean {
  return clauses.every((clause) => holds(clause, valueOf(item, clause.entity, clause.key)));
}

/** A comparator for Array.sort: each order clause in turn (missing values last), then the fallback. */
export function orderOf<T extends Searchable>(
  clauses: readonly OrderClause[],
  fallback: (a: T, b: T) => number,
): (a: T, b: T) => number {
  return (a, b) => {
    for (const clause of clauses) {
      const x = valueOf(a, clause.entity, clause.key);
      const y = valueOf(b, clause.entity, clause.key);
      const xMissing = x === undefined || x === null || (typeof x === 'number' && Number.isNaN(x));
      const yMissing = y === undefined || y === null || (typeof y === 'number' && Number.isNaN(y));
      if (xMissing || yMissing) {
        if (xMissing && yMissing) continue;
        return xMissing ? 1 : -1;
      }
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      if (order !== 0) return clause.ascending ? order : -order;
    }
    return fallback(a, b);
  };
}

/** An opaque page token: the offset of the next page. */
export function pageTokenOf(offset: number): string {
  return Buffer.from(JSON.stringify({ offset }), 'utf8').toString('base64');
}

export function offsetOf(token: string | undefined): Result<number, SearchSyntaxError> {
  if (token === undefined || token === '') return ok(0);
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0)
      return ok(parsed.offset);
  } catch {
    // falls through to the error below
  }
  return err(syntaxError('invalid page_token'));
}
