import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { ClickHouseSettings } from '@clickhouse/client';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type AnalystQueryError, analystQuery } from '../../domain';
import { MonitorAnalytics } from '../../infrastructure/monitor-analytics';
import { MONITOR_SETTINGS, type MonitorSettings } from '../../tokens';

export type QueryFailure = AnalystQueryError | DomainError<'query_failed'>;

/** Runs an analyst's SELECT with read-only and limits set by ClickHouse for that query alone. */
@Injectable()
export class QueryClickHouseService {
  constructor(
    private readonly analytics: MonitorAnalytics,
    @Inject(MONITOR_SETTINGS) private readonly settings: MonitorSettings,
  ) {}

  async run(
    text: string,
    format: string | undefined,
    params: Record<string, string>,
  ): Promise<Result<{ stream: Readable; format: string }, QueryFailure>> {
    const built = analystQuery(text, {
      maxRows: this.settings.queryMaxRows,
      maxSeconds: this.settings.queryMaxSeconds,
    });
    if (!built.ok) return built;
    const outputFormat = built.value.format ?? format ?? 'TabSeparated';
    try {
      const result = await this.analytics.clickhouse.exec({
        query: built.value.sql,
        query_params: params,
        // The embedded engine takes the format as an option; a server reads the same setting from the URL.
        clickhouse_settings: { default_format: outputFormat as NonNullable<ClickHouseSettings['default_format']> },
      });
      return ok({ stream: result.stream, format: outputFormat });
    } catch (error) {
      return err(domainError('query_failed', (error as Error).message));
    }
  }
}
