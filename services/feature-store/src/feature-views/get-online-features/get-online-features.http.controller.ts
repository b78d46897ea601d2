import { BadRequestException, Controller, Get, NotFoundException, Param, Query } from '@nestjs/common';
import { type FeatureView, featuresAsOf, isFresh } from '../../domain';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { OnlineStore } from '../../infrastructure/online-store';

/**
 * GET /feature-views/:name/entities/:id[?version=N][&asOf=now|<RFC 3339>]: the entity's latest vector (newest
 * version by default). With asOf the windows slide to that time (not before the entity's newest record):
 * row-level features of the newest record, aggregates as of asOf.
 */
@Controller('feature-views')
export class GetOnlineFeaturesHttpController {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly online: OnlineStore,
  ) {}

  @Get(':name/entities/:id')
  async vector(
    @Param('name') name: string,
    @Param('id') entityId: string,
    @Query('version') versionText?: string,
    @Query('asOf') asOfText?: string,
  ): Promise<unknown> {
    let version: number | undefined;
    if (versionText !== undefined) {
      version = Number(versionText);
      if (!Number.isInteger(version) || version < 1) throw new BadRequestException(`version must be an integer >= 1, got "${versionText}"`);
    }
    const now = Date.now();
    const asOfMs = asOfText === undefined ? undefined : asOfText === 'now' ? now : Date.parse(asOfText);
    if (asOfMs !== undefined && !Number.isFinite(asOfMs)) throw new BadRequestException(`asOf must be "now" or an RFC 3339 time, got "${asOfText}"`);
    const view = await this.catalog.view(name, version);
    if (!view) throw new NotFoundException(`feature view "${name}"${version === undefined ? '' : ` version ${version}`} does not exist`);
    const vector = await this.online.vector(view.name, view.version, entityId);
    if (!vector) throw new NotFoundException(`no features for entity "${entityId}" in ${view.name}@${view.version}`);
    const answer = {
      featureView: { name: view.name, version: view.version },
      entityId,
      // In declaration order (jsonb keeps keys in its own order).
      features: Object.fromEntries(view.outputNames.map((name) => [name, vector.features[name] ?? null])),
      eventTime: vector.eventTime.toISOString(),
      fresh: isFresh(view, vector.eventTime.getTime(), now),
      ttlSeconds: view.ttlMs / 1000,
      materializedAt: vector.updatedAt.toISOString(),
      sourceEventId: vector.sourceEventId,
    };
    if (asOfMs === undefined) return answer;
    return { ...answer, asOf: new Date(asOfMs).toISOString(), features: await this.slidTo(view, entityId, asOfMs, vector.eventTime.getTime()) };
  }

  private async slidTo(view: FeatureView, entityId: string, asOfMs: number, eventTimeMs: number): Promise<unknown> {
    if (asOfMs < eventTimeMs) throw new BadRequestException(`asOf is before the entity's newest record (${new Date(eventTimeMs).toISOString()}); past vectors come from snapshots`);
    const state = await this.online.state(view.name, view.version, entityId);
    const features = state ? featuresAsOf(view, state, asOfMs) : null;
    if (!features) throw new NotFoundException(`no aggregation state for entity "${entityId}" in ${view.name}@${view.version}`);
    return features;
  }
}
