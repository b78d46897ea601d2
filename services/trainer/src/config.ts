import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { authKeys } from '@mlops/auth';
import { type ConfigOf, int, postgresKeys, serviceKeys, str, url } from '@mlops/config';

/** Every key the trainer service reads; validated at start. */
export const TrainerConfigSpec = {
  ...serviceKeys(3003),
  ...postgresKeys,
  ...authKeys,
  ARTIFACT_STORE_URL: url({
    description:
      'Where snapshots are read and ONNX models stored (content-addressed): file:///dir, or s3://bucket/prefix?region=..&endpoint=..&pathStyle=true. ' +
      'Default: the .data/artifacts directory under the working directory at start (the one feature-store writes by default)',
    protocols: ['file', 's3'],
    default: pathToFileURL(resolve('.data/artifacts')).href,
  }),
  ARTIFACT_STORE_ACCESS_KEY_ID: str({
    description: 's3:// artifact store only: access key id',
    optional: true,
    secret: true,
  }),
  ARTIFACT_STORE_SECRET_ACCESS_KEY: str({
    description: 's3:// artifact store only: secret access key',
    optional: true,
    secret: true,
  }),
  ARTIFACT_STORE_SESSION_TOKEN: str({
    description: 's3:// artifact store only: session token of temporary credentials',
    optional: true,
    secret: true,
  }),
  CODE_VERSION: str({
    description: "Version of the training code written into every model's lineage: a git commit or a release tag",
    default: 'dev',
  }),
  TRAINING_LEASE_MS: int({
    description:
      'How long a trainer holds a run without renewing it; a run whose holder stopped (crash, restart) is taken over after it lapses',
    default: 30_000,
    min: 1_000,
  }),
  TRAINING_POLL_MS: int({ description: 'How often an idle trainer looks for runs to train', default: 1_000, min: 50 }),
  TRAINING_MAX_ATTEMPTS: int({
    description:
      'Attempts of a run (each restart during its training is one) before it fails with training_interrupted',
    default: 3,
    min: 1,
  }),
};

export type TrainerConfig = ConfigOf<typeof TrainerConfigSpec>;
