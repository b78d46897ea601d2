import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EventTypes } from '@mlops/contracts';
import type { CloudEvent, CloudEventContext } from '@mlops/messaging';
import { RecordEventsService } from './record-events.service';

const T = EventTypes;

/** The monitor's inputs: each event is recorded once (inbox) in the transaction whose commit sends the batch to ClickHouse. */
@Controller()
export class RecordEventsMessageController {
  constructor(private readonly record: RecordEventsService) {}

  @EventPattern(T.PredictionLoggedV1)
  async onPrediction(
    @Payload() event: CloudEvent<typeof T.PredictionLoggedV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    this.record.prediction(c.manager, event);
  }

  @EventPattern(T.FeaturesMaterializedV1)
  async onFeatures(
    @Payload() event: CloudEvent<typeof T.FeaturesMaterializedV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    this.record.features(c.manager, event);
  }

  @EventPattern(T.DataValidatedV1)
  async onValidated(
    @Payload() event: CloudEvent<typeof T.DataValidatedV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    this.record.validated(c.manager, event);
  }

  @EventPattern(T.DataQualityV1)
  async onQuality(@Payload() event: CloudEvent<typeof T.DataQualityV1>, @Ctx() c: CloudEventContext): Promise<void> {
    this.record.quality(c.manager, event);
  }

  @EventPattern(T.DeploymentSucceededV1)
  async onDeployed(
    @Payload() event: CloudEvent<typeof T.DeploymentSucceededV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    this.record.deploymentSucceeded(c.manager, event);
  }

  @EventPattern(T.DeploymentFailedV1)
  async onDeployFailed(
    @Payload() event: CloudEvent<typeof T.DeploymentFailedV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    this.record.deploymentFailed(c.manager, event);
  }

  @EventPattern(T.ModelPromotedV1)
  async onPromoted(@Payload() event: CloudEvent<typeof T.ModelPromotedV1>, @Ctx() c: CloudEventContext): Promise<void> {
    this.record.promoted(c.manager, event);
  }

  @EventPattern(T.ModelTrainedV1)
  async onTrained(@Payload() event: CloudEvent<typeof T.ModelTrainedV1>, @Ctx() c: CloudEventContext): Promise<void> {
    await this.record.trained(c.manager, event);
  }

  @EventPattern(T.TrainingFailedV1)
  async onTrainingFailed(
    @Payload() event: CloudEvent<typeof T.TrainingFailedV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    await this.record.trainingFailed(c.manager, event);
  }

  @EventPattern(T.ModelRegisteredV1)
  async onRegistered(
    @Payload() event: CloudEvent<typeof T.ModelRegisteredV1>,
    @Ctx() c: CloudEventContext,
  ): Promise<void> {
    await this.record.registered(c.manager, event);
  }
}
