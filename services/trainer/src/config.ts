import { authKeys } from '@mlops/auth';
import { type ConfigOf, postgresKeys, serviceKeys } from '@mlops/config';

/** Every key the trainer service reads; validated at start. */
export const TrainerConfigSpec = {
  ...serviceKeys(3003),
  ...postgresKeys,
  ...authKeys,
};

export type TrainerConfig = ConfigOf<typeof TrainerConfigSpec>;
