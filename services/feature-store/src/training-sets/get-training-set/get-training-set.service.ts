import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type ArtifactStore } from '@mlops/artifacts';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { SnapshotLog } from '../../infrastructure/snapshot-log';
import { PARQUET_MEDIA_TYPE, SNAPSHOT_MEDIA_TYPE } from '../../offline';
import { ARTIFACT_STORE } from '../../tokens';
import { type TrainingSetResponse, trainingSetView } from '../training-set.view';

export type GetTrainingSetError = DomainError<
  'training_set_not_found' | 'training_set_pending' | 'format_not_available'
>;

export interface TrainingSetFile {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly fileName: string;
  readonly sha256: string;
}

/** A training set's status and files, from what the snapshot log recorded for its id. */
@Injectable()
export class GetTrainingSetService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly log: SnapshotLog,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  async status(id: string): Promise<Result<TrainingSetResponse, GetTrainingSetError>> {
    const manager = this.dataSource.manager;
    const result = await this.log.find(manager, id);
    if (result) return ok(trainingSetView(id, result));
    if (await this.log.isDeferred(manager, id)) return ok(trainingSetView(id, undefined));
    return err(domainError('training_set_not_found', `no training set ${id}`));
  }

  /** The file's bytes, verified against its sha256 by the artifact store. */
  async file(id: string, format: 'ndjson' | 'parquet'): Promise<Result<TrainingSetFile, GetTrainingSetError>> {
    const status = await this.status(id);
    if (!status.ok) return status;
    const files = status.value.files;
    if (!files) return err(domainError('training_set_pending', `training set ${id} is not built yet`));
    const file = format === 'parquet' ? files.parquet : files.ndjson;
    if (!file)
      return err(domainError('format_not_available', `training set ${id} was built before ${format} files existed`));
    return ok({
      bytes: await this.artifacts.get(file.uri),
      mediaType: format === 'parquet' ? PARQUET_MEDIA_TYPE : SNAPSHOT_MEDIA_TYPE,
      fileName: `training-set-${id}.${format === 'parquet' ? 'parquet' : 'ndjson'}`,
      sha256: file.sha256,
    });
  }
}
