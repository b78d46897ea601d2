// Helpers of the MLflow registry tests: a registry app that serves HTTP but consumes no events (registry.it's app
// consumes the same topics with its own inbox; a second consumer would process its events again), versions
// registered directly through the registration use case, and a small ONNX model to upload.
import { createHash } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { EventTypes, type ModelTrainedV1 } from '@mlops/contracts';
import { newEvent } from '@mlops/messaging';
import { createRng, exportOnnx, trainPipeline } from '@mlops/ml';
import { PlatformExceptionFilter } from '@mlops/platform';
import { POSTGRES } from '@mlops/storage';
import { authorized, uid } from '@mlops/testing';
import { AppModule } from '../src/app.module';
import { registryService } from '../src/app';
import type { RegistryConfig } from '../src/config';
import { RegisterTrainedService } from '../src/models/register-trained/register-trained.service';

/** The registry as `createRegistryApp` builds it, without the Kafka transport (the outbox relay still publishes). */
export async function httpOnlyRegistryApp(config: RegistryConfig): Promise<{ app: INestApplication; base: string }> {
  const app = await NestFactory.create(AppModule.forRoot(config), { logger: ['error'], abortOnError: false });
  app.useGlobalFilters(new PlatformExceptionFilter(app.get(HttpAdapterHost).httpAdapter));
  registryService.beforeInit?.(app, config);
  await app.init();
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}` };
}

/** Registers a trained version (and runs the gate) as the model.trained handler does, in one transaction. */
export async function registerTrained(app: INestApplication, trained: ModelTrainedV1): Promise<void> {
  const registration = app.get(RegisterTrainedService);
  await app.get<DataSource>(POSTGRES).transaction(async (manager) => {
    const outcome = await registration.register(
      newEvent(EventTypes.ModelTrainedV1, trained, { source: 'urn:mlops:registry-mlflow-test' }),
      manager,
    );
    if (!outcome.registered) throw new Error(`not registered: ${outcome.refused ?? 'known run'}`);
  });
}

export const mlflowModelName = (what: string): string =>
  uid(`mf-${what}`)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '-');

/** A small logistic regression (inputs `features` [a, b] and `plan`) exported to ONNX. */
export function smallOnnx(): Uint8Array {
  const rng = createRng(7);
  const rows = 120;
  const a = new Float64Array(rows);
  const b = new Float64Array(rows);
  const plan: (string | null)[] = [];
  const labels = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    a[i] = rng.next();
    b[i] = rng.next();
    plan.push(rng.next() < 0.5 ? 'basic' : 'premium');
    labels[i] = (a[i] as number) + (plan[i] === 'basic' ? 0.3 : 0) > 0.6 ? 1 : 0;
  }
  const table = {
    rows,
    columns: [
      { name: 'a', kind: 'numeric' as const, values: a },
      { name: 'b', kind: 'numeric' as const, values: b },
      { name: 'plan', kind: 'categorical' as const, values: plan },
    ],
  };
  const model = trainPipeline(table, labels, 'binary', 'logistic_regression', {}, 1).model;
  return exportOnnx(model, { modelName: 'external', producerVersion: 'test' }).bytes;
}

/** Uploads an ONNX file as a new version of `model` (POST /models/:name/versions); returns its sha256. */
export async function uploadOnnx(base: string, model: string, bytes: Uint8Array): Promise<string> {
  const metadata = {
    task: 'binary_classification',
    featureView: { name: 'customer_features', version: 2 },
    signature: {
      inputs: [
        { name: 'features', dtype: 'float32', features: ['a', 'b'] },
        { name: 'plan', dtype: 'string', features: ['plan'] },
      ],
      outputName: 'score',
    },
    metrics: { auc: 0.77 },
    tags: { origin: 'sklearn' },
  };
  const res = await fetch(
    `${base}/models/${model}/versions`,
    authorized({
      method: 'POST',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream', 'x-model-metadata': JSON.stringify(metadata) },
    }),
  );
  if (res.status !== 201) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return createHash('sha256').update(bytes).digest('hex');
}
