/** Requests of the batch scoring endpoints. */
export const startBatchScoreParams = {
  type: 'object',
  required: ['name', 'version'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' },
  },
} as const;

const requestId = {
  type: 'string',
  format: 'uuid',
  description: 'Makes the request idempotent: the same id again returns the same job (and the same export)',
} as const;

/** A snapshot (snapshotUri + snapshotSha256), or a feature view's rows with event time in [from, to). */
export const startBatchScoreBody = {
  type: 'object',
  oneOf: [
    {
      type: 'object',
      required: ['snapshotUri', 'snapshotSha256'],
      additionalProperties: false,
      properties: {
        requestId,
        snapshotUri: { type: 'string', minLength: 1, maxLength: 2000, description: 'a snapshot in the artifact store' },
        snapshotSha256: { type: 'string', pattern: '^[a-f0-9]{64}$' },
      },
    },
    {
      type: 'object',
      required: ['from', 'to'],
      additionalProperties: false,
      properties: {
        requestId,
        featureView: {
          type: 'object',
          description: "the view whose offline rows are scored; default: the view the version's model was trained on",
          required: ['name', 'version'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
            version: { type: 'integer', minimum: 1 },
          },
        },
        from: { type: 'string', format: 'date-time', description: 'event times from (inclusive)' },
        to: { type: 'string', format: 'date-time', description: 'event times up to (exclusive)' },
      },
    },
  ],
} as const;

export const batchScoreJobParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', format: 'uuid' } },
} as const;

export const batchScoreJobResponse = {
  type: 'object',
  required: ['id', 'model', 'version', 'status', 'phase', 'rowsScored', 'attempts', 'maxAttempts'],
  properties: {
    id: { type: 'string' },
    model: { type: 'string' },
    version: { type: 'integer' },
    input: { type: 'object', description: 'kind snapshot (uri, sha256) or range (featureView, from, to)' },
    status: { enum: ['running', 'succeeded', 'failed'] },
    phase: { enum: ['exporting', 'scoring', 'done'], description: 'exporting: waiting for the feature store' },
    rowsFile: { type: ['object', 'null'], description: 'uri and sha256 of the rows scored' },
    rowsTotal: { type: ['integer', 'null'] },
    rowsScored: { type: 'integer' },
    attempts: {
      type: 'integer',
      description: 'runs so far: 1, plus one each time a replica took over the job from a replica that went away',
    },
    maxAttempts: { type: 'integer', description: 'runs at most (BATCH_SCORING_MAX_ATTEMPTS)' },
    result: { type: ['object', 'null'], description: 'uri, sha256, sizeBytes and rows of the scores (NDJSON)' },
    error: { type: ['object', 'null'] },
  },
} as const;
