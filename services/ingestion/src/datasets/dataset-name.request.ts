import { DATASET_NAME } from '../domain/dataset';

/** The `:name` path parameter of every dataset route: a name a dataset can have. */
export const datasetNameParam = { type: 'string', pattern: DATASET_NAME.source, description: 'dataset name' } as const;
