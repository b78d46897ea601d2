import { Controller, Get } from '@nestjs/common';
import { type FromSchema, Operation, ValidParams, ValidQuery, errorResponse, respond } from '@mlops/http';
import { CatalogStore } from '../../infrastructure/catalog-store';
import { OnlineStore } from '../../infrastructure/online-store';
import {
  type GetOnlineFeaturesParams,
  type GetOnlineFeaturesQuery,
  getOnlineFeaturesParams,
  getOnlineFeaturesQuery,
} from './get-online-features.request';
import { getOnlineFeatures } from './get-online-features.service';

const onlineFeaturesResponse = {
  type: 'object',
  required: [
    'featureView',
    'entityId',
    'features',
    'eventTime',
    'fresh',
    'ttlSeconds',
    'materializedAt',
    'sourceEventId',
  ],
  additionalProperties: false,
  properties: {
    featureView: {
      type: 'object',
      required: ['name', 'version'],
      additionalProperties: false,
      properties: { name: { type: 'string' }, version: { type: 'integer' } },
    },
    entityId: { type: 'string' },
    features: {
      type: 'object',
      description: 'output name -> value, in declaration order',
      additionalProperties: { type: ['number', 'string', 'boolean', 'null'] },
    },
    eventTime: { type: 'string', format: 'date-time', description: "the entity's newest record" },
    fresh: { type: 'boolean', description: 'eventTime is within the TTL of now' },
    ttlSeconds: { type: 'number' },
    materializedAt: { type: 'string', format: 'date-time' },
    sourceEventId: { type: 'string' },
    asOf: { type: 'string', format: 'date-time', description: 'with ?asOf: the time the windows slid to' },
  },
} as const;

/** GET /feature-views/:name/entities/:id[?version=N][&asOf=now|<RFC 3339>]: the entity's latest vector. */
@Controller('feature-views')
export class GetOnlineFeaturesHttpController {
  constructor(
    private readonly catalog: CatalogStore,
    private readonly online: OnlineStore,
  ) {}

  @Get(':name/entities/:id')
  @Operation({
    summary: "An entity's online feature vector",
    description:
      'Of the serving version, or of ?version. With ?asOf the windows slide to that time: row-level features of the newest record, aggregates as of asOf.',
    responses: {
      200: { description: 'the vector', schema: onlineFeaturesResponse },
      404: errorResponse('no such view or version, or no vector of this entity', [
        'view_not_found',
        'entity_not_found',
      ]),
      400: errorResponse(
        "asOf is before the entity's newest record (past vectors come from snapshots)",
        'as_of_before_newest_record',
      ),
    },
  })
  async vector(
    @ValidParams(getOnlineFeaturesParams) params: GetOnlineFeaturesParams,
    @ValidQuery(getOnlineFeaturesQuery) query: GetOnlineFeaturesQuery,
  ): Promise<FromSchema<typeof onlineFeaturesResponse>> {
    const now = Date.now();
    const asOfMs = query.asOf === undefined ? undefined : query.asOf === 'now' ? now : Date.parse(query.asOf);
    const request = {
      view: params.name,
      entityId: params.id,
      ...(query.version === undefined ? {} : { version: Number(query.version) }),
      ...(asOfMs === undefined ? {} : { asOfMs }),
    };
    return respond(await getOnlineFeatures(this.catalog, this.online, request, now), {
      view_not_found: 404,
      entity_not_found: 404,
      as_of_before_newest_record: 400,
    });
  }
}
