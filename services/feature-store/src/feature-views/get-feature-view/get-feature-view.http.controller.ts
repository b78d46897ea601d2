import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { featureViewVersionView } from '../feature-view.view';

/** GET /feature-views/:name: every version, oldest first, with its backfill status. */
@Controller('feature-views')
export class GetFeatureViewHttpController {
  constructor(private readonly catalog: CatalogStore) {}

  @Get(':name')
  async versions(@Param('name') name: string): Promise<unknown> {
    const versions = await this.catalog.versions(name);
    if (versions.length === 0) throw new NotFoundException(`feature view "${name}" does not exist`);
    const ready = versions.filter((v) => v.status === 'ready');
    return {
      name,
      latestVersion: versions[versions.length - 1]!.version,
      // The version records are materialized into and entity lookups answer by default.
      servingVersion: ready.length > 0 ? ready[ready.length - 1]!.version : null,
      versions: versions.map(featureViewVersionView),
    };
  }
}
