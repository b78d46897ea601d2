import { Body, Controller, HttpException, HttpStatus, Param, Put, Res } from '@nestjs/common';
import { datasetView } from '../dataset.view';
import { RegisterDatasetService } from './register-dataset.service';

/**
 * `PUT /datasets/:name` registers a dataset or a new version of it: 201 with the new version, 200 when
 * nothing changed, 400 with every problem, 409 with every reason the schema is not backward compatible.
 */
@Controller('datasets')
export class RegisterDatasetController {
  constructor(private readonly service: RegisterDatasetService) {}

  @Put(':name')
  async register(@Param('name') name: string, @Body() body: unknown, @Res({ passthrough: true }) res: { status(code: number): unknown }): Promise<Record<string, unknown>> {
    const outcome = await this.service.register(name, body);
    switch (outcome.kind) {
      case 'registered':
        res.status(HttpStatus.CREATED);
        return datasetView(outcome.dataset);
      case 'unchanged':
        res.status(HttpStatus.OK);
        return { ...datasetView(outcome.dataset), unchanged: true };
      case 'invalid':
        throw new HttpException({ error: 'invalid_dataset', message: `dataset "${name}" cannot be registered: ${outcome.problems.join('; ')}`, problems: outcome.problems }, HttpStatus.BAD_REQUEST);
      case 'incompatible':
        throw new HttpException(
          {
            error: 'incompatible_schema',
            message: `the new record schema of "${name}" is not backward compatible with version ${outcome.previousVersion}; register a new dataset for an incompatible change`,
            previousVersion: outcome.previousVersion,
            reasons: outcome.reasons,
          },
          HttpStatus.CONFLICT,
        );
    }
  }
}
