import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { POSTGRES } from '@mlops/storage';
import { type DefinitionIssue, type FeatureViewDefinition, type Result, err, isJsonObject, ok, validateFeatureView } from '../../domain';
import { CatalogStore, type StoredFeatureView } from '../../infrastructure/catalog-store';
import { BackfillFeatureViewService } from '../backfill-feature-view/backfill-feature-view.service';

export type CreateFeatureViewError =
  | { readonly kind: 'invalid'; readonly issues: readonly DefinitionIssue[] }
  | { readonly kind: 'unknown-dataset'; readonly dataset: string };

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
  ) {}

  /** A new version starts 'backfilling'; its backfill starts once the version is committed. */
  async create(body: unknown, now = new Date()): Promise<Result<CreatedFeatureView, CreateFeatureViewError>> {
    const shape = checkShape(body);
    if (!shape.ok) return err({ kind: 'invalid', issues: shape.error });
    const result = await this.insert(shape.value, now);
    if (result.ok && result.value.created) this.backfills.start(result.value.view.name, result.value.view.version);
    return result;
  }

  private insert(draft: Draft, now: Date): Promise<Result<CreatedFeatureView, CreateFeatureViewError>> {
    return this.dataSource.transaction(async (manager) => {
      const dataset = await this.catalog.dataset(draft.source.dataset, manager);
      if (!dataset) return err({ kind: 'unknown-dataset' as const, dataset: draft.source.dataset });
      if (dataset.role !== 'features') {
        return err({ kind: 'invalid' as const, issues: [{ path: '/source/dataset', message: `dataset "${dataset.name}" holds ${dataset.role}; a view reads a features dataset` }] });
      }
      await this.catalog.lockView(manager, draft.name);
      const versions = await this.catalog.versions(draft.name, manager);
      const newest = versions[versions.length - 1];
      if (newest && sameDefinition(newest.definition, draft)) return ok({ view: newest, created: false });
      const definition: FeatureViewDefinition = { ...draft, version: (newest?.version ?? 0) + 1 };
      const compiled = validateFeatureView(definition, dataset);
      if (!compiled.ok) return err({ kind: 'invalid' as const, issues: compiled.error });
      await this.catalog.insertView(manager, compiled.value, dataset, now);
      return ok({
        view: { name: definition.name, version: definition.version, dataset: dataset.name, datasetVersion: dataset.version, definition, createdAt: now, status: 'backfilling' as const, backfill: null },
        created: true,
      });
    });
  }
}

type Draft = Omit<FeatureViewDefinition, 'version'>;

/** Enough shape to look the dataset up; everything else is validateFeatureView's job. */
function checkShape(body: unknown): Result<Draft, DefinitionIssue[]> {
  if (!isJsonObject(body)) return err([{ path: '', message: 'the body must be a JSON object (a feature view definition)' }]);
  const issues: DefinitionIssue[] = [];
  if (typeof body.name !== 'string') issues.push({ path: '/name', message: 'name is required' });
  if (body.version !== undefined) issues.push({ path: '/version', message: 'versions are assigned by the feature store; leave version out' });
  if (!isJsonObject(body.source) || typeof body.source.dataset !== 'string') issues.push({ path: '/source/dataset', message: 'source.dataset is required' });
  if (issues.length > 0) return err(issues);
  return ok(body as unknown as Draft);
}

function sameDefinition(stored: FeatureViewDefinition, draft: Draft): boolean {
  const { version: _version, ...rest } = stored;
  return canonical(rest) === canonical(draft);
}

/** JSON with object keys sorted, so that key order does not make a new version. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
