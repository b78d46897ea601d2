import { Controller, HttpException, HttpStatus, Put, Res } from '@nestjs/common';
import { CurrentPrincipal, type Principal, RequireRole } from '@mlops/auth';
import { Operation, ValidBody, ValidParams, ValidQuery, errorBodySchema, errorResponse } from '@mlops/http';
import { type RegistrationResponse, datasetView, registrationResponse } from '../dataset.view';
import {
  type DatasetNameParams,
  type RegisterDatasetQuery,
  type RegisterDatasetRequest,
  datasetNameParams,
  registerDatasetQuery,
  registerDatasetRequest,
} from './register-dataset.request';
import { type RegistrationError, RegisterDatasetService } from './register-dataset.service';

const invalidDatasetBody = {
  type: 'object',
  required: ['error', 'message', 'problems'],
  properties: {
    error: { const: 'invalid_dataset' },
    message: { type: 'string' },
    problems: { type: 'array', items: { type: 'string' } },
  },
} as const;
const incompatibleSchemaBody = {
  type: 'object',
  required: ['error', 'message', 'previousVersion', 'reasons'],
  properties: {
    error: { const: 'incompatible_schema' },
    message: { type: 'string' },
    previousVersion: { type: 'integer' },
    reasons: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'rule', 'message'],
        properties: { path: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
} as const;

const weakenedFields = {
  type: 'object',
  required: ['fields'],
  properties: {
    fields: {
      type: 'array',
      items: {
        type: 'object',
        required: ['field', 'from', 'to'],
        properties: { field: { type: 'string' }, from: { enum: ['hash', 'drop'] }, to: { enum: ['none', 'hash'] } },
      },
    },
  },
} as const;

/**
 * `PUT /datasets/:name` registers a dataset or a new version of it: 201 with the new version, 200 when
 * nothing changed, 400 with every problem, 409 with every reason the schema is not backward compatible.
 * Role data-steward; a version that weakens the protection of sensitive fields needs admin (403) and
 * `?acknowledgeProtectionChange=true` (409), and is audited.
 */
@Controller('datasets')
export class RegisterDatasetHttpController {
  constructor(private readonly service: RegisterDatasetService) {}

  @Put(':name')
  @RequireRole('data-steward')
  @Operation({
    summary: 'Register a dataset, or a new version of it',
    description:
      'A new version must accept every record the previous one accepted; role, entity key and event time cannot change. ' +
      'A version that removes a sensitive field or turns drop into hash needs the admin role and ?acknowledgeProtectionChange=true.',
    responses: {
      200: { description: 'identical to the latest version: nothing registered', schema: registrationResponse },
      201: { description: 'the new version', schema: registrationResponse },
      400: { description: 'the definition breaks a rule of datasets', schema: invalidDatasetBody },
      403: errorResponse(
        'the version weakens the protection of sensitive fields and the caller is not admin',
        'protection_change_forbidden',
        weakenedFields,
      ),
      409: {
        description:
          'the record schema is not backward compatible with the latest version, or the version weakens protection without acknowledgeProtectionChange=true',
        schema: {
          oneOf: [incompatibleSchemaBody, errorBodySchema(['protection_change_unacknowledged'], weakenedFields)],
        },
      },
    },
  })
  async register(
    @ValidParams(datasetNameParams) params: DatasetNameParams,
    @ValidBody(registerDatasetRequest) body: RegisterDatasetRequest,
    @ValidQuery(registerDatasetQuery) query: RegisterDatasetQuery,
    @CurrentPrincipal() actor: Principal,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<RegistrationResponse> {
    const registration = await this.service.register(params.name, body, {
      actor,
      acknowledgeProtectionChange: query.acknowledgeProtectionChange === 'true',
    });
    if (!registration.ok) throw refusal(registration.error);
    const { dataset, created } = registration.value;
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return created ? datasetView(dataset) : { ...datasetView(dataset), unchanged: true };
  }
}

// Both refusals keep their particulars at the top of the body, as the API has always answered them.
function refusal(error: RegistrationError): HttpException {
  const { kind, message } = error;
  switch (kind) {
    case 'invalid_dataset':
      return new HttpException({ error: kind, message, problems: error.details.problems }, HttpStatus.BAD_REQUEST);
    case 'incompatible_schema':
      return new HttpException({ error: kind, message, ...error.details }, HttpStatus.CONFLICT);
    case 'protection_change_forbidden':
      return new HttpException({ error: kind, message, details: error.details }, HttpStatus.FORBIDDEN);
    case 'protection_change_unacknowledged':
      return new HttpException({ error: kind, message, details: error.details }, HttpStatus.CONFLICT);
  }
}
