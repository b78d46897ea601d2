import type { DatasetVersion } from '../domain/dataset';

/** How a dataset version is shown over HTTP. */
export function datasetView(dataset: DatasetVersion): Record<string, unknown> {
  return {
    dataset: dataset.name,
    version: dataset.version,
    role: dataset.role,
    recordSchema: dataset.recordSchema,
    entityKeyField: dataset.entityKeyField,
    eventTimeField: dataset.eventTimeField,
    ...(dataset.labelField !== undefined ? { labelField: dataset.labelField } : {}),
    sensitiveFields: dataset.sensitiveFields,
    ...(dataset.description !== undefined ? { description: dataset.description } : {}),
    ...(dataset.owner !== undefined ? { owner: dataset.owner } : {}),
    registeredAt: dataset.registeredAt.toISOString(),
  };
}
