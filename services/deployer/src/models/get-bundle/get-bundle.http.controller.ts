import { Controller, Get, Inject } from '@nestjs/common';
import { RequireRole } from '@mlops/auth';
import type { ArtifactStore } from '@mlops/artifacts';
import { Operation, ValidParams, errorResponse, respond } from '@mlops/http';
import type { FromSchema } from '@mlops/http';
import { inputTensorsOf, outputTensorsOf } from '../../domain/oip';
import { ServingTable } from '../../infrastructure/serving-table';
import { ARTIFACT_STORE } from '../../tokens';

const bundleParams = {
  type: 'object',
  required: ['name', 'version'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,62}$' },
    version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' },
  },
} as const;

type BundleParams = FromSchema<typeof bundleParams>;

const bundleResponse = {
  type: 'object',
  required: ['model', 'version', 'featureView', 'features', 'signature', 'artifact'],
  properties: {
    model: { type: 'string' },
    version: { type: 'integer' },
    aliases: { type: 'array', items: { type: 'string' } },
    featureView: { type: 'object' },
    features: { type: 'array', description: 'name and kind (numeric, categorical) of every input feature, in order' },
    signature: { type: 'object', description: 'the promoted signature plus every input and output tensor' },
    artifact: { type: 'object', description: 'uri, sha256, sizeBytes, format and the ONNX bytes in base64' },
  },
} as const;

/**
 * GET /models/:name/versions/:v/bundle: the ONNX file of a served version with its signature and feature
 * definitions, so a device or another runtime can score offline the same way (numeric features in one float
 * tensor in the listed order, NaN for missing; categorical ones as string tensors, '' for missing).
 */
@Controller('models')
export class GetBundleHttpController {
  constructor(
    private readonly table: ServingTable,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  @Get(':name/versions/:version/bundle')
  @RequireRole('reader')
  @Operation({
    summary: 'The ONNX file of a served version with its signature and feature definitions',
    responses: {
      200: { description: 'the bundle', schema: bundleResponse },
      404: errorResponse('unknown model or version', ['unknown_model', 'unknown_alias', 'unknown_version']),
    },
  })
  async bundle(@ValidParams(bundleParams) params: BundleParams): Promise<Record<string, unknown>> {
    const version = Number(params.version);
    const loaded = respond(this.table.resolve(params.name, undefined, version), {
      unknown_model: 404,
      unknown_alias: 404,
      unknown_version: 404,
    });
    const { deployment, signature } = loaded;
    const bytes = await this.artifacts.get(deployment.artifactUri);
    return {
      model: deployment.model,
      version: deployment.version,
      aliases: this.table
        .all()
        .filter((other) => other.deployment.model === deployment.model && other.deployment.version === version)
        .map((other) => other.deployment.alias),
      featureView: deployment.featureView,
      features: [
        ...signature.numericFeatures.map((name) => ({ name, kind: 'numeric', input: signature.numericInput })),
        ...signature.categoricalFeatures.map((name) => ({ name, kind: 'categorical', input: name })),
      ],
      signature: {
        ...deployment.promotedSignature,
        inputs: inputTensorsOf(signature),
        outputs: outputTensorsOf(signature),
      },
      artifact: {
        uri: deployment.artifactUri,
        sha256: deployment.artifactSha256,
        sizeBytes: bytes.length,
        format: 'onnx',
        base64: bytes.toString('base64'),
      },
    };
  }
}
