import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ArtifactStore } from '@mlops/artifacts';
import type { Principal } from '@mlops/auth';
import { type DomainError, type Result, domainError, err, ok } from '@mlops/core';
import { POSTGRES } from '@mlops/storage';
import { checkSignature } from '../../domain/signature-check';
import { CatalogStore, type VersionRecord } from '../../infrastructure/catalog-store';
import { UnloadableModelError, inspectOnnx, looksLikeOnnx } from '../../infrastructure/onnx-inspector';
import { ARTIFACT_STORE } from '../../tokens';
import type { UploadMetadata } from './upload-model.request';

export type UploadError = DomainError<
  'empty_upload' | 'not_onnx' | 'corrupt_onnx' | 'signature_mismatch' | 'task_mismatch'
>;

/**
 * An ONNX model trained elsewhere: loaded with ONNX Runtime, its inputs and outputs checked against the declared
 * signature, then stored (artifact, then version) only when every check passed. The version is registered with
 * status "registered": a person promotes it (PUT /models/:name/aliases/:alias).
 */
@Injectable()
export class UploadModelService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    private readonly catalog: CatalogStore,
  ) {}

  async upload(
    name: string,
    metadata: UploadMetadata,
    bytes: Buffer,
    actor: Principal,
    now = new Date(),
  ): Promise<Result<VersionRecord, UploadError>> {
    if (bytes.length === 0)
      return err(domainError('empty_upload', 'the body is empty: send the ONNX file as the body'));
    if (!looksLikeOnnx(bytes)) {
      return err(domainError('not_onnx', 'the body is not an ONNX model (a ModelProto starts with its ir_version)'));
    }
    let graph;
    try {
      graph = await inspectOnnx(bytes);
    } catch (error) {
      if (!(error instanceof UnloadableModelError)) throw error;
      return err(domainError('corrupt_onnx', `ONNX Runtime cannot load the model: ${error.message}`));
    }
    const mismatches = checkSignature(graph, metadata.signature);
    if (mismatches.length > 0) {
      return err(
        domainError(
          'signature_mismatch',
          `the model does not match the declared signature: ${mismatches.map((m) => m.problem).join('; ')}`,
          { mismatches, graph },
        ),
      );
    }
    const existing = await this.catalog.findModel(this.dataSource.manager, name);
    if (existing && existing.task !== metadata.task) {
      return err(
        domainError('task_mismatch', `model ${name} is a ${existing.task} model, the upload says ${metadata.task}`),
      );
    }
    const stored = await this.artifacts.put(bytes, { mediaType: 'application/onnx', name: `${name}.onnx` });
    const numeric = metadata.signature.inputs.find((input) => input.dtype === 'float32');
    const version = await this.dataSource.transaction(async (manager) => {
      await this.catalog.ensureModel(manager, { name, task: metadata.task, owner: actor.name }, now);
      await this.catalog.findModel(manager, name, true);
      const inserted = await this.catalog.insertVersion(
        manager,
        {
          model: name,
          source: 'uploaded',
          trainingRunId: null,
          task: metadata.task,
          algorithm: metadata.algorithm ?? 'external',
          description: metadata.description ?? '',
          tags: (metadata.tags ?? {}) as Record<string, string>,
          artifact: { uri: stored.uri, sha256: stored.sha256, format: 'onnx', sizeBytes: stored.sizeBytes },
          signature: {
            inputName: numeric?.name ?? '',
            inputDtype: 'float32',
            featureNames: [...(numeric?.features ?? [])],
            outputName: metadata.signature.outputName,
            inputs: metadata.signature.inputs.map((input) => ({ ...input, features: [...input.features] })),
            outputs: graph.outputs
              .filter((output) => output.type === 'float32' || output.type === 'int64')
              .map((output) => ({
                name: output.name,
                dtype: output.type as 'float32' | 'int64',
                shape: output.shape.map((dim) => (typeof dim === 'number' ? dim : -1)),
              })),
          },
          // The header schema checked these maps (patternProperties, which FromSchema does not type).
          featureView: metadata.featureView,
          metrics: (metadata.metrics ?? {}) as Record<string, number>,
          sliceMetrics: (metadata.slices ?? {}) as Record<string, Record<string, number>>,
          champion: null,
          params: (metadata.params ?? {}) as Record<string, number | string | boolean>,
          lineage: { ...(metadata.trainingData ?? {}), featureView: metadata.featureView },
          referenceDistributions: {},
          predictionDistribution: null,
          trainedAt: null,
          createdBy: actor.name,
        },
        'registered',
        now,
      );
      if (!inserted) throw new Error('an uploaded version has no training run and cannot conflict');
      await this.catalog.audit(
        manager,
        {
          actor: actor.name,
          action: 'version_uploaded',
          model: name,
          version: inserted.version,
          reason: 'external ONNX model uploaded',
          details: { artifactSha256: stored.sha256, sizeBytes: stored.sizeBytes },
        },
        now,
      );
      return inserted;
    });
    return ok(version);
  }
}
