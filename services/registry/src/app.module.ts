import { type DynamicModule, Module } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { artifactStoreOf } from '@mlops/artifacts';
import { PlatformModule } from '@mlops/platform';
import { POSTGRES } from '@mlops/storage';
import type { RegistryConfig } from './config';
import { CatalogStore } from './infrastructure/catalog-store';
import { registryMigrations } from './infrastructure/migrations';
import { MlflowRegistryHttpController } from './mlflow/mlflow-registry.http.controller';
import { MlflowRegistryService } from './mlflow/mlflow-registry.service';
import { ApplyGateService } from './models/apply-gate/apply-gate.service';
import { ApprovePromotionHttpController } from './models/approve-promotion/approve-promotion.http.controller';
import { ApprovePromotionService } from './models/approve-promotion/approve-promotion.service';
import { DownloadArtifactHttpController } from './models/download-artifact/download-artifact.http.controller';
import { LineageHttpController } from './models/lineage/lineage.http.controller';
import { MarkVersionBadHttpController } from './models/mark-version-bad/mark-version-bad.http.controller';
import { MarkVersionBadService } from './models/mark-version-bad/mark-version-bad.service';
import { Promotion } from './models/promotion';
import { DeploymentMessageController } from './models/record-deployment/deployment.message.controller';
import { ModelTrainedMessageController } from './models/register-trained/model-trained.message.controller';
import { RegisterTrainedService } from './models/register-trained/register-trained.service';
import { ModelDegradedMessageController } from './models/rollback-alias/model-degraded.message.controller';
import { ModelDegradedService } from './models/rollback-alias/model-degraded.service';
import { RollbackAliasHttpController } from './models/rollback-alias/rollback-alias.http.controller';
import { RollbackAliasService } from './models/rollback-alias/rollback-alias.service';
import { CatalogQueries } from './models/search/catalog-queries.service';
import { SearchHttpController } from './models/search/search.http.controller';
import { SetAliasHttpController } from './models/set-alias/set-alias.http.controller';
import { SetAliasService } from './models/set-alias/set-alias.service';
import { ModelSettingsHttpController } from './models/set-policy/set-policy.http.controller';
import { ModelSettingsService } from './models/set-policy/set-policy.service';
import { UploadModelHttpController } from './models/upload-model/upload-model.http.controller';
import { UploadModelService } from './models/upload-model/upload-model.service';
import { ARTIFACT_STORE, PG_SCHEMA, REGISTRY_CONFIG, SERVICE } from './tokens';

export { PG_SCHEMA, SERVICE } from './tokens';

@Module({})
export class AppModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ service: SERVICE, pgSchema: PG_SCHEMA, config, migrations: registryMigrations }),
      ],
      controllers: [
        // Specific routes before the catch-all `models/:name/versions/:version` of the search controller.
        LineageHttpController,
        DownloadArtifactHttpController,
        ApprovePromotionHttpController,
        MarkVersionBadHttpController,
        UploadModelHttpController,
        SetAliasHttpController,
        RollbackAliasHttpController,
        ModelSettingsHttpController,
        SearchHttpController,
        MlflowRegistryHttpController,
        ModelTrainedMessageController,
        ModelDegradedMessageController,
        DeploymentMessageController,
      ],
      providers: [
        { provide: REGISTRY_CONFIG, useValue: config },
        // Built at start: a bad URL or missing S3 credentials stop the service before it consumes anything.
        { provide: ARTIFACT_STORE, useFactory: () => artifactStoreOf(config) },
        {
          provide: CatalogStore,
          inject: [POSTGRES],
          useFactory: (dataSource: DataSource) => new CatalogStore(dataSource),
        },
        Promotion,
        ApplyGateService,
        RegisterTrainedService,
        SetAliasService,
        ApprovePromotionService,
        RollbackAliasService,
        ModelDegradedService,
        MarkVersionBadService,
        ModelSettingsService,
        CatalogQueries,
        UploadModelService,
        MlflowRegistryService,
      ],
    };
  }
}
