import { BadRequestException, Injectable, type PipeTransform } from '@nestjs/common';
import Ajv2020 from 'ajv/dist/2020';
import type { AnySchemaObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);

/** Checks a body against a closed JSON Schema before the controller runs (to be replaced by libs/http's pipe). */
@Injectable()
export class AjvBodyPipe<T> implements PipeTransform<unknown, T> {
  private readonly validate: ValidateFunction<T>;

  constructor(schema: AnySchemaObject) {
    this.validate = ajv.compile<T>(schema);
  }

  transform(value: unknown): T {
    if (this.validate(value)) return value;
    throw new BadRequestException({
      error: 'invalid_request',
      message: 'the request body does not match its schema',
      issues: (this.validate.errors ?? []).map((e) => ({
        path: e.instancePath || '/',
        keyword: e.keyword,
        message: e.message ?? e.keyword,
      })),
    });
  }
}
