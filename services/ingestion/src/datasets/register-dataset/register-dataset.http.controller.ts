import { Controller, HttpException, HttpStatus, Put, Res } from '@nestjs/common';
import { Operation, ValidBody, ValidParams } from '@mlops/http';
import { type RegistrationResponse, datasetView, registrationResponse } from '../dataset.view';
import {
  type DatasetNameParams,
  type RegisterDatasetRequest,
  datasetNameParams,
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

/**
 * `PUT /datasets/:name` registers a dataset or a new version of it: 201 with the new version, 200 when
 * nothing changed, 400 with every problem, 409 with every reason the schema is not backward compatible.
 */
@Controller('datasets')
export class RegisterDatasetHttpController {
  constructor(private readonly service: RegisterDatasetService) {}

  @Put(':name')
  @Operation({
    summary: 'Register a dataset, or a new version of it',
    description:
      'A new version must accept every record the previous one accepted; role, entity key and event time cannot change.',
    responses: {
      200: { description: 'identical to the latest version: nothing registered', schema: registrationResponse },
      201: { description: 'the new version', schema: registrationResponse },
      400: { description: 'the definition breaks a rule of datasets', schema: invalidDatasetBody },
      409: {
        description: 'the record schema is not backward compatible with the latest version',
        schema: incompatibleSchemaBody,
      },
    },
  })
  async register(
    @ValidParams(datasetNameParams) params: DatasetNameParams,
    @ValidBody(registerDatasetRequest) body: RegisterDatasetRequest,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ): Promise<RegistrationResponse> {
    const registration = await this.service.register(params.name, body);
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
  }
}
