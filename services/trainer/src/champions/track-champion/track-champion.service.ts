import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventTypes } from '@mlops/contracts';
import type { CloudEvent } from '@mlops/messaging';
import { ChampionStore } from '../../infrastructure/champion-store';

type Promoted = typeof EventTypes.ModelPromotedV1;

/** `mlops.model.promoted.v1` -> the champion of that model's alias (a rollback to an older version counts too). */
@Injectable()
export class TrackChampionService {
  private readonly logger = new Logger('champions');

  constructor(private readonly champions: ChampionStore) {}

  async record(event: CloudEvent<Promoted>, manager: EntityManager, now = new Date()): Promise<boolean> {
    const promoted = event.data;
    const changed = await this.champions.record(manager, promoted, now);
    this.logger.log(
      changed
        ? `${promoted.model}/${promoted.alias} -> version ${promoted.version} (${promoted.trigger})`
        : `${promoted.model}/${promoted.alias} -> version ${promoted.version}: older than what is known, ignored`,
    );
    return changed;
  }
}
