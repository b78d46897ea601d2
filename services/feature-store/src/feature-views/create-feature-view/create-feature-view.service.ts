import { Inject, Injectable, Optional } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { POSTGRES } from '@mlops/storage';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type DefinitionIssue, type FeatureViewDefinition, validateFeatureView } from '../../domain';
import { CatalogStore, type StoredFeatureView } from '../../infrastructure/catalog-store';
import { RegistrationsLag } from '../../datasets/track-dataset/registrations-lag';
import { BackfillFeatureViewService } from '../backfill-feature-view/backfill-feature-view.service';
import type { CreateFeatureViewRequest } from './create-feature-view.request';

/**
 * unknown_dataset: the source dataset is not registered; dataset_not_yet_known: unknown here, but registrations are
 * still being consumed (retry); invalid_definition: details.issues says every reason.
 */
export type CreateFeatureViewError = DomainError<'unknown_dataset' | 'dataset_not_yet_known' | 'invalid_definition'>;

function invalidDefinition(issues: readonly DefinitionIssue[]): CreateFeatureViewError {
  return domainError('invalid_definition', 'the feature view definition is invalid or does not fit its dataset', {
    issues,
  });
}

export interface CreatedFeatureView {
  readonly view: StoredFeatureView;
  /** False when the definition equals the newest version's: that version is returned, no new one is made. */
  readonly created: boolean;
}

/** A definition (without version) becomes the next immutable version of its view, if it fits its dataset. */
@Injectable()
export class CreateFeatureViewService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly catalog: CatalogStore,
    private readonly backfills: BackfillFeatureViewService,
    @Optional() private readonly registrations?: RegistrationsLag,
  ) {}

  /** A new version starts 'backfilling'; its backfill starts once the version is committed. */
  async create(
    request: CreateFeatureViewRequest,
    now = new Date(),
  ): Promise<Result<CreatedFeatureView, CreateFeatureViewError>> {
    let result = await this.insert(request, now);
    if (!result.ok && result.error.kind === 'unknown_dataset' && this.registrations) {
      // Registered a moment ago? Its event may not be consumed yet: say so (retryable) rather than 404.
      const caughtUp = await this.registrations.caughtUp().catch(() => false);
      if (!caughtUp)
        return err(
          domainError(
            'dataset_not_yet_known',
            `dataset "${request.source.dataset}" is not known yet and dataset registrations are still being consumed; retry shortly`,
          ),
        );
      result = await this.insert(request, now); // it may have arrived while the offsets were read
    }
    if (result.ok && result.value.created) this.backfills.start(result.value.view.name, result.value.view.version);
    return result;
  }

  private insert(draft: Draft, now: Date): Promise<Result<CreatedFeatureView, CreateFeatureViewError>> {
    return this.dataSource.transaction(async (manager) => {
      const dataset = await this.catalog.dataset(draft.source.dataset, manager);
      if (!dataset)
        return err(
          domainError('unknown_dataset', `dataset "${draft.source.dataset}" is not registered`, {
            dataset: draft.source.dataset,
          }),
        );
      if (dataset.role !== 'features') {
        return err(
          invalidDefinition([
            {
              path: '/source/dataset',
              message: `dataset "${dataset.name}" holds ${dataset.role}; a view reads a features dataset`,
            },
          ]),
        );
      }
      await this.catalog.lockView(manager, draft.name);
      const versions = await this.catalog.versions(draft.name, manager);
      const newest = versions[versions.length - 1];
      if (newest && sameDefinition(newest.definition, draft)) return ok({ view: newest, created: false });
      const definition: FeatureViewDefinition = { ...draft, version: (newest?.version ?? 0) + 1 };
      const compiled = validateFeatureView(definition, dataset);
      if (!compiled.ok) return err(invalidDefinition(compiled.error));
      await this.catalog.insertView(manager, compiled.value, dataset, now);
      return ok({
        view: {
          name: definition.name,
          version: definition.version,
          dataset: dataset.name,
          datasetVersion: dataset.version,
          definition,
          createdAt: now,
          status: 'backfilling' as const,
          backfill: null,
        },
        created: true,
      });
    });
  }
}

type Draft = Omit<FeatureViewDefinition, 'version'>;

function sameDefinition(stored: FeatureViewDefinition, draft: Draft): boolean {
  const { version: _version, ...rest } = stored;
  return canonical(rest) === canonical(draft);
}

/** JSON with object keys sorted, so that key order does not make a new version. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
