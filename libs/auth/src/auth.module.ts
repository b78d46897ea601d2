import { type DynamicModule, Inject, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import { POSTGRES, assertIdentifier } from '@mlops/storage';
import { AuditLog } from './audit/audit-log';
import { type AuthConfig, type AuthSettings, authSettingsOf } from './config';
import { AUTH_SETTINGS, AuthGuard } from './http/auth.guard';
import { AuthHttpController } from './http/auth.http.controller';
import { TokenStore } from './infrastructure/token-store';
import { TokenChangedMessageController } from './tokens/token-changed.message.controller';
import { TokenService } from './tokens/token.service';
import { TokenVerifier } from './tokens/token-verifier';

export interface AuthModuleOptions {
  /** Service name: the CloudEvents source of the token events it issues. */
  service: string;
  /** The service's Postgres schema; `authMigrations` must be among its migrations. */
  pgSchema: string;
  /** The service's loaded config, with the keys of `authKeys`. */
  config: AuthConfig;
  /** How long a verified token is trusted without a read; capped at 2 s. */
  tokenCacheMs?: number;
}

@Injectable()
class AuthStartup implements OnModuleInit {
  constructor(
    @Inject(AUTH_SETTINGS) private readonly settings: AuthSettings,
    private readonly store: TokenStore,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.settings.disabled) {
      new Logger('auth').warn(
        'AUTH_DISABLED=true: EVERY REQUEST ACTS AS ADMIN WITHOUT A TOKEN. Never run this way outside a local experiment.',
      );
    }
    if (this.settings.adminTokenHash !== undefined) await this.store.recordBootstrap(this.settings.adminTokenHash);
  }
}

/**
 * Bearer-token auth for a service's HTTP API: the global deny-by-default guard, the audit log, `/auth/*`,
 * and the handler that keeps this service's token table in step with the others (needs the inbox).
 * Throws a ConfigError when the auth keys do not fit together (no admin token and auth not disabled).
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    assertIdentifier(options.pgSchema);
    const settings = authSettingsOf(options.service, options.config);
    const schema = options.pgSchema;
    return {
      module: AuthModule,
      global: true,
      controllers: [AuthHttpController, TokenChangedMessageController],
      providers: [
        { provide: AUTH_SETTINGS, useValue: settings },
        {
          provide: TokenStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new TokenStore(dataSource, schema),
        },
        {
          provide: AuditLog,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new AuditLog(dataSource, schema),
        },
        {
          provide: TokenVerifier,
          inject: [TokenStore],
          useFactory: (store: TokenStore) => new TokenVerifier(store, settings.adminTokenHash, options.tokenCacheMs),
        },
        {
          provide: TokenService,
          inject: [POSTGRES, TokenStore, TokenVerifier],
          useFactory: (dataSource: DataSource, store: TokenStore, verifier: TokenVerifier) =>
            new TokenService(dataSource, store, verifier, schema, `urn:mlops:${options.service}`),
        },
        AuthStartup,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [AUTH_SETTINGS, TokenStore, AuditLog, TokenVerifier, TokenService],
    };
  }
}
