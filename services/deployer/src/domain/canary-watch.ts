/** What a canary must stay within, over a sliding window of its most recent requests. */
export interface CanaryBounds {
  /** Largest share (%) of failed requests (inference failures) in the window. */
  readonly maxErrorPercent: number;
  /** Largest p99 latency (ms) of the window's answered requests. */
  readonly maxP99Ms: number;
  /** Requests the canary must have answered (or failed) before it is judged. */
  readonly minRequests: number;
  /** How many of its latest requests are judged. */
  readonly window: number;
}

/** A bound the canary exceeded: the measured value against its bound, over `requests` requests. */
export interface CanaryBreach {
  readonly metric: 'error_rate' | 'p99_latency';
  readonly measured: number;
  readonly bound: number;
  readonly requests: number;
}

/**
 * Keeps the outcome and latency of a canary's latest requests and says when one of its bounds is exceeded:
 * the error rate (%) or the p99 latency (ms, nearest rank over the answered requests of the window), judged once
 * at least `minRequests` requests were seen.
 */
export class CanaryWatch {
  private readonly failed: boolean[] = [];
  private readonly latencies: number[] = [];
  private next = 0;
  private seen = 0;

  constructor(private readonly bounds: CanaryBounds) {}

  get requests(): number {
    return this.seen;
  }

  /** Records one request; returns the breach it reveals, if any. */
  record(failed: boolean, latencyMs: number): CanaryBreach | undefined {
    const size = Math.max(1, this.bounds.window);
    this.failed[this.next] = failed;
    this.latencies[this.next] = latencyMs;
    this.next = (this.next + 1) % size;
    this.seen++;
    if (this.seen < this.bounds.minRequests) return undefined;
    const count = this.failed.length;
    const errors = this.failed.filter(Boolean).length;
    const errorPercent = (100 * errors) / count;
    if (errorPercent > this.bounds.maxErrorPercent)
      return { metric: 'error_rate', measured: errorPercent, bound: this.bounds.maxErrorPercent, requests: this.seen };
    const answered = this.latencies.filter((_, i) => !this.failed[i]).sort((a, b) => a - b);
    if (answered.length === 0) return undefined;
    const p99 = answered[Math.min(answered.length - 1, Math.ceil(0.99 * answered.length) - 1)] as number;
    if (p99 > this.bounds.maxP99Ms)
      return { metric: 'p99_latency', measured: p99, bound: this.bounds.maxP99Ms, requests: this.seen };
    return undefined;
  }
}
