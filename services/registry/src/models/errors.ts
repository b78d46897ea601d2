import { type DomainError, domainError } from '@mlops/core';

export type NotFound = DomainError<'model_not_found' | 'version_not_found'>;

export const modelNotFound = (model: string): DomainError<'model_not_found'> =>
  domainError('model_not_found', `no registered model ${model}`, { model });

export const versionNotFound = (model: string, version: number): DomainError<'version_not_found'> =>
  domainError('version_not_found', `model ${model} has no version ${version}`, { model, version });
