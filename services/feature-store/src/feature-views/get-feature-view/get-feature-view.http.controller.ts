import { Controller, Get, NotFoundException, Param } from '@nestjs/common';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { featureViewVersionView } from '../feature-view.view';

/** GET /feature-views/:name: every version, oldest first. */
@Controller('feature-views')
export class GetFeatureViewHttpController {
  constructor(private readonly catalog: CatalogStore) {}

  @Get(':name')
  async versions(@Param('name') name: string): Promise<unknown> {
    const versions = await this.catalog.versions(name);
    if (versions.length === 0) throw new NotFoundException(`feature view "${name}" does not exist`);
    return { name, latestVersion: versions[versions.length - 1]!.version, versions: versions.map(featureViewVersionView) };
  }
}
