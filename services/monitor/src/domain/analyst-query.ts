import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';

export interface AnalystLimits {
  readonly maxRows: number;
  readonly maxSeconds: number;
}

export type AnalystQueryError = DomainError<'not_a_select' | 'multiple_statements' | 'setting_not_allowed'>;

/**
 * An analyst's query made safe to run: one SELECT (or WITH ... SELECT) statement, wrapped so that ClickHouse
 * itself enforces read-only and the limits for this query alone (query-level SETTINGS, readonly last so the
 * query cannot lift it); a trailing FORMAT clause is kept. Session settings are never used: the embedded engine
 * keeps them for every later query.
 */
export function analystQuery(
  text: string,
  limits: AnalystLimits,
): Result<{ sql: string; format?: string }, AnalystQueryError> {
  let body = text.trim().replace(/;\s*$/, '');
  if (body.includes(';')) return err(domainError('multiple_statements', 'one statement per request'));
  if (/\breadonly\b/i.test(body)) return err(domainError('setting_not_allowed', 'readonly is set by the monitor'));
  let format: string | undefined;
  const formatClause = /\s+FORMAT\s+([A-Za-z][A-Za-z0-9_]*)\s*$/i.exec(body);
  if (formatClause) {
    format = formatClause[1];
    body = body.slice(0, formatClause.index);
  }
  if (!/^\(?\s*(SELECT|WITH)\b/i.test(body))
    return err(domainError('not_a_select', 'only SELECT queries (or WITH ... SELECT) are answered here'));
  const settings = [
    `max_result_rows = ${Math.floor(limits.maxRows)}`,
    `result_overflow_mode = 'throw'`,
    `max_execution_time = ${Math.floor(limits.maxSeconds)}`,
    `readonly = 1`,
  ].join(', ');
  const sql = `SELECT * FROM (\n${body}\n) SETTINGS ${settings}${format ? ` FORMAT ${format}` : ''}`;
  return ok(format === undefined ? { sql } : { sql, format });
}
