import { Injectable } from '@nestjs/common';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { type DatasetVersion, type UnknownDataset, unknownDataset } from '../../domain/dataset';
import { DatasetStore } from '../../infrastructure/dataset-store';

/** Reads registered datasets: the latest version of each, the latest of one, or one version. */
@Injectable()
export class GetDatasetService {
  constructor(private readonly datasets: DatasetStore) {}

  list(): Promise<DatasetVersion[]> {
    return this.datasets.list();
  }

  async latest(name: string): Promise<Result<DatasetVersion, UnknownDataset>> {
    const dataset = await this.datasets.latest(name);
    return dataset ? ok(dataset) : err(unknownDataset(name, undefined));
  }

  /** A missing version of a known dataset and an unknown dataset are one answer: that version does not exist. */
  async version(
    name: string,
    version: number,
  ): Promise<Result<DatasetVersion, DomainError<'unknown_dataset_version'>>> {
    const dataset = await this.datasets.version(name, version);
    return dataset ? ok(dataset) : err(domainError('unknown_dataset_version', unknownDataset(name, version).message));
  }
}
