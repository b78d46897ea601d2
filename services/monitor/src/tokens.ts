/** Names of the monitor service. */
export const SERVICE = 'monitor';
export const PG_SCHEMA = 'monitor';
/** CloudEvents source of the monitor's events. */
export const SOURCE = 'urn:mlops:monitor';
/** The ClickHouse database of the monitor's tables. */
export const CLICKHOUSE_DATABASE = 'monitor';

/** Settings of the evaluation loop and of the analyst endpoint, from the config. */
export const MONITOR_SETTINGS = Symbol('MONITOR_SETTINGS');
export interface MonitorSettings {
  /** Default tumbling window of drift and performance, in seconds (a policy may override it). */
  readonly windowSeconds: number;
  /** Pause between evaluation passes; 0 runs none (tests call the service). */
  readonly evaluateIntervalMs: number;
  /** Analyst queries: most rows returned, longest run. */
  readonly queryMaxRows: number;
  readonly queryMaxSeconds: number;
}
