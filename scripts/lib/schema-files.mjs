// Shared helpers for the schema scripts: where schemas live, how event types map to names.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: scripts/lib/.. /.. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCHEMAS_DIR_NAME = 'schemas';
export const SCHEMA_ID_PREFIX = 'https://schemas.mlops.dev/events/';
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** `mlops.<domain>.<event...>.v<major>`: lowercase dot-separated segments, the last one the major version. */
export const EVENT_TYPE_PATTERN = /^mlops\.([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)*)\.v([1-9][0-9]*)$/;

export function schemaIdOf(type) {
  return `${SCHEMA_ID_PREFIX}${type}.json`;
}

/** Event type of a schema file name (`mlops.model.trained.v1.json` -> `mlops.model.trained.v1`), or undefined. */
export function eventTypeOfFile(fileName) {
  if (!fileName.endsWith('.json')) return undefined;
  const type = fileName.slice(0, -'.json'.length);
  return EVENT_TYPE_PATTERN.test(type) ? type : undefined;
}

/** `mlops.dataset.snapshot.requested.v1` -> `DatasetSnapshotRequestedV1` (interface and EventTypes key). */
export function pascalNameOf(type) {
  return type
    .replace(/^mlops\./, '')
    .split(/[.\-_]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Sorted `*.json` file names in a schemas directory. */
export function listSchemaFiles(schemasDir) {
  return readdirSync(schemasDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.json'))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Reads and checks the house rules every event schema follows (naming, $id, dialect, examples).
 * Returns `{ schemas: [{ type, file, schema }], problems: string[] }`, sorted by type.
 */
export function loadEventSchemas(schemasDir) {
  const schemas = [];
  const problems = [];
  for (const file of listSchemaFiles(schemasDir)) {
    const where = `${SCHEMAS_DIR_NAME}/${file}`;
    const type = eventTypeOfFile(file);
    if (!type) {
      problems.push(`${where}: file name must be <event type>.json with type mlops.<domain>.<event>.v<major>`);
      continue;
    }
    let schema;
    try {
      schema = JSON.parse(readFileSync(join(schemasDir, file), 'utf8'));
    } catch (error) {
      problems.push(`${where}: not valid JSON (${error.message})`);
      continue;
    }
    problems.push(...houseRuleProblems(type, schema).map((p) => `${where}: ${p}`));
    schemas.push({ type, file, schema });
  }
  return { schemas, problems };
}

function houseRuleProblems(type, schema) {
  const problems = [];
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return ['must be a JSON object'];
  if (schema.$schema !== JSON_SCHEMA_DIALECT) problems.push(`$schema must be "${JSON_SCHEMA_DIALECT}"`);
  if (schema.$id !== schemaIdOf(type)) problems.push(`$id must be "${schemaIdOf(type)}"`);
  for (const key of ['title', 'description']) {
    if (typeof schema[key] !== 'string' || schema[key].length === 0)
      problems.push(`"${key}" must be a non-empty string`);
  }
  if (schema.type !== 'object') problems.push('"type" must be "object"');
  if (!Array.isArray(schema.required)) problems.push('"required" must be an array');
  if (!('additionalProperties' in schema)) problems.push('"additionalProperties" must be set explicitly');
  if (!Array.isArray(schema.examples) || schema.examples.length < 1)
    problems.push('"examples" must hold at least one valid example');
  const invalid = schema['x-invalid-examples'];
  if (!Array.isArray(invalid) || invalid.length < 2) {
    problems.push('"x-invalid-examples" must hold at least two invalid examples');
  } else {
    invalid.forEach((example, i) => {
      if (typeof example?.description !== 'string' || !('value' in example)) {
        problems.push(`"x-invalid-examples"[${i}] must have "description" and "value"`);
      }
    });
  }
  const key = schema['x-partition-key'];
  if (!Array.isArray(key) || key.length < 1 || !key.every((p) => typeof p === 'string' && p.length > 0)) {
    problems.push('"x-partition-key" must list the (dot-separated) property paths forming the Kafka key');
  }
  return problems;
}
