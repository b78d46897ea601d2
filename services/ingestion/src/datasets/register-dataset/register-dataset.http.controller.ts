import { Body, Controller, HttpException, HttpStatus, Param, Put, Res } from '@nestjs/common';
import { datasetView } from '../dataset.view';
import { type RegistrationError, RegisterDatasetService } from './register-dataset.service';

/**
 * `PUT /datasets/:name` registers a dataset or a new version of it: 201 with the new version, 200 when
 * nothing changed, 400 with every problem, 409 with every reason the schema is not backward compatible.
 */
@Controller('datasets')
export class RegisterDatasetHttpController {
  constructor(private readonly service: RegisterDatasetService) {}

  @Put(':name')
  async register(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: { status(code: number): unknown }): Promise<Record<string, unknown>> {
    const registration = await this.service.register(name, body);
    if (!registration.ok) throw refusal(registration.error);
    const { dataset, created } = registration.value;
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return created ? datasetView(dataset) : { ...datasetView(dataset), unchanged: true };
  }
}

function refusal(error: RegistrationError): HttpException {
  const { kind, message } = error;
  switch (kind) {
    case 'invalid_dataset':
      return new HttpException({ error: kind, message, problems: error.details.problems }, HttpStatus.BAD_REQUEST);
    case 'incompatible_schema':
      return new HttpException({ error: kind, message, ...error.details }, HttpStatus.CONFLICT);
  }
}
