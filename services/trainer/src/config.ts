import { artifactKeys } from '@mlops/artifacts';
import { authKeys } from '@mlops/auth';
import { type ConfigOf, int, postgresKeys, serviceKeys, str } from '@mlops/config';

/** Every key the trainer service reads; validated at start. */
export const TrainerConfigSpec = {
  ...serviceKeys(3003),
  ...postgresKeys,
  ...authKeys,
  ...artifactKeys,
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
  TRAINING_CHAMPION_ALIAS: str({
    description:
      "The alias whose version (the champion) every finished run scores on its own holdout, for the registry's gate to compare on the same data; set it to the gate's policy alias when that is not production",
    default: 'production',
  }),
  TRAINING_POLL_MS: int({ description: 'How often an idle trainer looks for runs to train', default: 1_000, min: 50 }),
  TRACKING_MAX_ARTIFACT_BYTES: int({
    description: 'Largest artifact a client may upload through the MLflow artifact proxy, in bytes',
    default: 256 * 1024 * 1024,
    min: 1,
  }),
  TRAINING_MAX_ATTEMPTS: int({
    description:
      'Attempts of a run (each restart during its training is one) before it fails with training_interrupted',
    default: 3,
    min: 1,
  }),
};

export type TrainerConfig = ConfigOf<typeof TrainerConfigSpec>;
