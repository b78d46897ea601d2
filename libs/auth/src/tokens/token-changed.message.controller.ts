import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { TokenStore, recordOfEvent } from '../infrastructure/token-store';
import { TokenVerifier } from './token-verifier';

const CHANGED = EventTypes.AuthTokenChangedV1;

/** Every service's copy of the token table follows the issuing services (highest revision wins). */
@Controller()
export class TokenChangedMessageController {
  constructor(
    private readonly store: TokenStore,
    private readonly verifier: TokenVerifier,
  ) {}

  @EventPattern(CHANGED)
  async onChanged(@Payload() event: CloudEvent<typeof CHANGED>, @Ctx() context: CloudEventContext): Promise<void> {
    const manager = context.handler.manager;
    if (!manager) throw new Error('token changes are applied only with an inbox transaction');
    await this.store.upsert(manager, recordOfEvent(event.data));
    this.verifier.forget(event.data.id);
  }
}
