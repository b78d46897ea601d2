/** Data quality of each dataset over a tumbling window of ingestion time: counts and null rates. */
import type { ErrorKind } from './record-check';

export interface QualityReport {
  dataset: string;
  window: { start: string; end: string };
  accepted: number;
  rejected: number;
  duplicates: number;
  rejectedByKind: Partial<Record<ErrorKind, number>>;
  nullRates: Record<string, number>;
}

interface DatasetCounts {
  accepted: number;
  rejected: number;
  duplicates: number;
  rejectedByKind: Partial<Record<ErrorKind, number>>;
  nulls: Map<string, number>;
}

export class QualityWindow {
  private counts = new Map<string, DatasetCounts>();

  constructor(private start: Date) {}

  private of(dataset: string): DatasetCounts {
    let counts = this.counts.get(dataset);
    if (!counts) {
      counts = { accepted: 0, rejected: 0, duplicates: 0, rejectedByKind: {}, nulls: new Map() };
      this.counts.set(dataset, counts);
    }
    return counts;
  }

  /** An accepted record: `values` holds every declared field (null when missing). Returns the window's null rates so far. */
  accepted(dataset: string, values: Readonly<Record<string, unknown>>): Record<string, number> {
    return this.acceptedAll(dataset, [values]);
  }

  /** Accepted records of one dataset, counted one by one; returns the window's null rates after the last. */
  acceptedAll(dataset: string, records: ReadonlyArray<Readonly<Record<string, unknown>>>): Record<string, number> {
    const counts = this.of(dataset);
    for (const values of records) {
      counts.accepted += 1;
      for (const field in values)
        counts.nulls.set(field, (counts.nulls.get(field) ?? 0) + (values[field] === null ? 1 : 0));
    }
    return nullRates(counts);
  }

  /** A rejected record counts once per distinct kind of its errors. */
  rejected(dataset: string, kinds: readonly ErrorKind[]): void {
    const counts = this.of(dataset);
    counts.rejected += 1;
    for (const kind of new Set(kinds)) counts.rejectedByKind[kind] = (counts.rejectedByKind[kind] ?? 0) + 1;
  }

  duplicate(dataset: string): void {
    this.of(dataset).duplicates += 1;
  }

  /** The reports of the window ending now (datasets that saw records), and a fresh window from `end`. */
  close(end: Date): QualityReport[] {
    const start = this.start;
    // A window must end after it starts, even when two flushes land in the same millisecond.
    const effectiveEnd = end.getTime() > start.getTime() ? end : new Date(start.getTime() + 1);
    const reports = [...this.counts].map(([dataset, counts]) => ({
      dataset,
      window: { start: start.toISOString(), end: effectiveEnd.toISOString() },
      accepted: counts.accepted,
      rejected: counts.rejected,
      duplicates: counts.duplicates,
      rejectedByKind: { ...counts.rejectedByKind },
      nullRates: nullRates(counts),
    }));
    this.counts = new Map();
    this.start = effectiveEnd;
    return reports;
  }
}

function nullRates(counts: DatasetCounts): Record<string, number> {
  const rates: Record<string, number> = {};
  for (const [field, nulls] of counts.nulls) rates[field] = counts.accepted === 0 ? 0 : nulls / counts.accepted;
  return rates;
}
