import { Controller, Get, HttpException, HttpStatus, Injectable } from '@nestjs/common';

/** Something a service needs before it can take traffic: a broker, a database, an engine. */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface CheckOutcome {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: CheckOutcome[];
}

@Injectable()
export class HealthRegistry {
  private readonly checks: ReadinessCheck[] = [];
  private shuttingDown = false;

  register(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  /** Once draining starts, readiness fails so load balancers stop sending work. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async evaluate(timeoutMs = 2000): Promise<ReadinessReport> {
    const checks = await Promise.all(this.checks.map((c) => runCheck(c, timeoutMs)));
    if (this.shuttingDown) checks.push({ name: 'shutdown', ok: false, ms: 0, error: 'service is shutting down' });
    return { ready: checks.every((c) => c.ok), checks };
  }
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<CheckOutcome> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check.check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name: check.name, ok: true, ms: Date.now() - started };
  } catch (error) {
    return { name: check.name, ok: false, ms: Date.now() - started, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthRegistry) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(): Promise<ReadinessReport> {
    const report = await this.health.evaluate();
    if (!report.ready) throw new HttpException(report, HttpStatus.SERVICE_UNAVAILABLE);
    return report;
  }
}
