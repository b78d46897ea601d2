import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { type Principal, recordAuditAction } from '@mlops/auth';
import { type EventData, EventTypes } from '@mlops/contracts';
import { type Result, err, ok } from '@mlops/core';
import { enqueueInOutbox, newEvent } from '@mlops/messaging';
import { POSTGRES } from '@mlops/storage';
import {
  type DatasetVersion,
  type IncompatibleSchema,
  type InvalidDataset,
  type SensitiveTreatment,
  checkDefinition,
  incompatibilities,
  incompatibleSchema,
  invalidDataset,
  sameDefinition,
} from '../../domain/dataset';
import { uuidV5 } from '../../domain/event-ids';
import { type ProtectionChangeRefused, checkProtectionChange, weakenedProtection } from '../../domain/protection';
import { needsHashKey } from '../../domain/sensitive-fields';
import { DatasetStore } from '../../infrastructure/dataset-store';
import { RecordValidators } from '../../infrastructure/record-validators';
import type { IngestionConfig } from '../../config';
import { INGESTION_CONFIG, PG_SCHEMA, SOURCE } from '../../tokens';
import type { RegisterDatasetRequest } from './register-dataset.request';

/** The version now registered; `created` false when the definition was identical to the latest version. */
export interface Registration {
  dataset: DatasetVersion;
  created: boolean;
}

export type RegistrationError = InvalidDataset | IncompatibleSchema | ProtectionChangeRefused;

/** Who asks, and whether they acknowledged a change that weakens the protection of sensitive fields. */
export interface RegistrationCaller {
  readonly actor: Principal;
  readonly acknowledgeProtectionChange: boolean;
}

/** The audit action of an accepted version that weakens protection. */
export const PROTECTION_WEAKENED_ACTION = 'dataset protection weakened';

/** Registers a dataset, or a new version of it that accepts every record the previous one accepted. */
@Injectable()
export class RegisterDatasetService {
  constructor(
    @Inject(POSTGRES) private readonly dataSource: DataSource,
    private readonly datasets: DatasetStore,
    private readonly validators: RecordValidators,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
  ) {}

  async register(
    name: string,
    request: RegisterDatasetRequest,
    caller: RegistrationCaller,
    now = new Date(),
  ): Promise<Result<Registration, RegistrationError>> {
    // The request schema checked the treatments; FromSchema does not read patternProperties.
    const sensitiveFields = (request.sensitiveFields ?? {}) as Record<string, SensitiveTreatment>;
    const checked = checkDefinition(name, { ...request, sensitiveFields });
    if (!checked.ok) return checked;
    const definition = checked.value;
    if (needsHashKey(definition.sensitiveFields) && this.config.INGESTION_HASH_KEY === undefined) {
      return err(
        invalidDataset(name, [
          'sensitive fields marked "hash" need a hash key, which this service is not configured with',
        ]),
      );
    }
    const compileProblem = this.validators.compileProblem(definition.recordSchema);
    if (compileProblem) return err(invalidDataset(name, [compileProblem]));

    return this.dataSource.transaction(async (manager): Promise<Result<Registration, RegistrationError>> => {
      await this.datasets.lock(manager, name);
      const previous = await this.datasets.latest(name, manager);
      if (previous && sameDefinition(previous, definition)) return ok({ dataset: previous, created: false });
      if (previous) {
        const reasons = incompatibilities(previous, definition);
        if (reasons.length > 0) return err(incompatibleSchema(name, previous.version, reasons));
      }
      const weakened = weakenedProtection(previous?.sensitiveFields ?? {}, definition.sensitiveFields);
      const allowed = checkProtectionChange(name, weakened, caller.actor.roles, caller.acknowledgeProtectionChange);
      if (!allowed.ok) return allowed;
      const dataset = await this.datasets.insert(manager, definition, (previous?.version ?? 0) + 1, now);
      if (weakened.length > 0) {
        // In the transaction of the version itself: no weakened version without its audit row.
        await recordAuditAction(manager, PG_SCHEMA, {
          actor: caller.actor,
          action: PROTECTION_WEAKENED_ACTION,
          details: { dataset: name, version: dataset.version, previousVersion: previous?.version, fields: weakened },
          acknowledgement: 'acknowledgeProtectionChange=true',
        });
      }
      const type = EventTypes.DatasetRegisteredV1;
      await enqueueInOutbox(
        manager,
        PG_SCHEMA,
        newEvent(type, registeredData(dataset), {
          source: SOURCE,
          id: uuidV5(`${type}\u0000${name}\u0000${dataset.version}`),
          subject: name,
          time: now,
        }),
      );
      return ok({ dataset, created: true });
    });
  }
}

function registeredData(dataset: DatasetVersion): EventData<typeof EventTypes.DatasetRegisteredV1> {
  return {
    dataset: dataset.name,
    version: dataset.version,
    role: dataset.role,
    recordSchema: dataset.recordSchema as EventData<typeof EventTypes.DatasetRegisteredV1>['recordSchema'],
    entityKeyField: dataset.entityKeyField,
    eventTimeField: dataset.eventTimeField,
    ...(dataset.labelField !== undefined ? { labelField: dataset.labelField } : {}),
    sensitiveFields: Object.keys(dataset.sensitiveFields),
    ...(dataset.description !== undefined ? { description: dataset.description } : {}),
    ...(dataset.owner !== undefined ? { owner: dataset.owner } : {}),
    registeredAt: dataset.registeredAt.toISOString(),
  };
}
