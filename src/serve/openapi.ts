/** The OpenAPI 3.1 description of every endpoint, served at `GET /docs` (JSON). */

const model = {
  name: 'model',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' },
};
const version = { name: 'version', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9]+$' } };
const label = { name: 'label', in: 'path', required: true, schema: { type: 'string' } };
const err = (d: string) => ({
  description: d,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});
const errors = {
  '400': err(
    'Bad request: malformed JSON, unknown / missing input, wrong datatype or shape (the message names the input, what was received and expected)',
  ),
  '401': err('No API key, or an unknown one (when keys are configured)'),
  '403': err('The API key lacks the needed scope'),
  '404': err('Unknown model, version or label'),
  '413': err('Body or tensor larger than the limits'),
  '429': err('Queue full or key over its rate limit; see Retry-After'),
  '503': err('Model not ready, request timed out in the queue, or server draining'),
};
const ok = (d: string, schema?: object) => ({
  description: d,
  ...(schema ? { content: { 'application/json': { schema } } } : {}),
});

/** The document object. */
export function openApiDocument(serverVersion: string): Record<string, unknown> {
  const inferOp = (summary: string, params: object[]) => ({
    post: {
      summary,
      tags: ['KServe V2'],
      parameters: [
        ...params,
        {
          name: 'Inference-Header-Content-Length',
          in: 'header',
          schema: { type: 'integer' },
          description:
            'Binary tensor data extension: byte length of the JSON header; the tensors follow it raw (little-endian)',
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: { $ref: '#/components/schemas/InferRequest' } },
          'application/octet-stream': {
            schema: { type: 'string', format: 'binary' },
            description: 'JSON header then binary tensors',
          },
        },
      },
      responses: { '200': ok('Inference result', { $ref: '#/components/schemas/InferResponse' }), ...errors },
    },
  });
  const meta = (tag: string, summary: string, params: object[]) => ({
    get: { summary, tags: [tag], parameters: params, responses: { '200': ok('Metadata'), ...errors } },
  });
  const ready = (summary: string, params: object[]) => ({
    get: {
      summary,
      tags: ['KServe V2'],
      parameters: params,
      responses: { '200': ok('Ready'), '503': err('Not ready'), '404': errors['404'] },
    },
  });
  const predict = (summary: string, params: object[]) => ({
    post: {
      summary,
      tags: ['TF Serving'],
      parameters: params,
      requestBody: {
        required: true,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/PredictRequest' } } },
      },
      responses: { '200': ok('Predictions (row format) or outputs (columnar format)'), ...errors },
    },
  });
  const admin = (summary: string, params: object[]) => ({
    post: {
      summary,
      tags: ['Repository (admin scope)'],
      parameters: params,
      responses: { '200': ok('Done'), ...errors },
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera model server',
      version: serverVersion,
      description:
        'KServe V2 (Open Inference Protocol) REST with the binary tensor data, model repository, classification, statistics and model configuration extensions, and TensorFlow Serving REST. Errors are { "error": "..." }. Request bodies may be compressed (Content-Encoding gzip, deflate or br); responses of 1 KB or more are compressed as Accept-Encoding asks. With API keys configured, send Authorization: Bearer <key> or X-API-Key.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: {
        Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
        Tensor: {
          type: 'object',
          required: ['name', 'shape', 'datatype'],
          properties: {
            name: { type: 'string' },
            shape: { type: 'array', items: { type: 'integer' } },
            datatype: {
              enum: ['FP32', 'FP64', 'FP16', 'INT64', 'INT32', 'INT8', 'UINT8', 'BOOL', 'BYTES'],
              description:
                "The model's FP32 / INT32 / BOOL, or a type converted to it (FP64, FP16, INT64, INT8, UINT8; range-checked); BYTES for text models' string inputs",
            },
            data: {
              description:
                'Flat or nested values, row-major; strings for BYTES (binary extension: each element a 4-byte little-endian length, then its bytes)',
            },
            parameters: { type: 'object', properties: { binary_data_size: { type: 'integer' } } },
          },
        },
        InferRequest: {
          type: 'object',
          required: ['inputs'],
          properties: {
            id: { type: 'string' },
            parameters: { type: 'object', properties: { binary_data_output: { type: 'boolean' } } },
            inputs: { type: 'array', items: { $ref: '#/components/schemas/Tensor' } },
            outputs: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  parameters: {
                    type: 'object',
                    properties: {
                      binary_data: { type: 'boolean' },
                      classification: {
                        type: 'integer',
                        minimum: 1,
                        description:
                          'Classification extension: return the top N classes of each row as BYTES "<value>:<index>[:<label>]" (labels from config.json classLabels)',
                      },
                    },
                  },
                },
              },
            },
          },
        },
        InferResponse: {
          type: 'object',
          properties: {
            model_name: { type: 'string' },
            model_version: { type: 'string' },
            id: { type: 'string' },
            outputs: { type: 'array', items: { $ref: '#/components/schemas/Tensor' } },
          },
        },
        PredictRequest: {
          type: 'object',
          properties: { signature_name: { type: 'string' }, instances: { type: 'array' }, inputs: {} },
          description: 'Row format (instances) or columnar format (inputs)',
        },
      },
    },
    security: [{}, { bearer: [] }, { apiKey: [] }],
    paths: {
      '/v2': meta('KServe V2', 'Server metadata', []),
      '/v2/health/live': { get: { summary: 'Liveness', tags: ['KServe V2'], responses: { '200': ok('Live') } } },
      '/v2/health/ready': {
        get: {
          summary: 'Readiness (every model has a ready version)',
          tags: ['KServe V2'],
          responses: { '200': ok('Ready'), '503': err('Not ready') },
        },
      },
      '/v2/models/{model}': meta('KServe V2', 'Model metadata (newest ready version)', [model]),
      '/v2/models/{model}/ready': ready('Model readiness', [model]),
      '/v2/models/{model}/versions/{version}': meta('KServe V2', 'Model version metadata', [model, version]),
      '/v2/models/{model}/versions/{version}/ready': ready('Model version readiness', [model, version]),
      '/v2/models/{model}/infer': inferOp('Inference on the newest ready version', [model]),
      '/v2/models/{model}/versions/{version}/infer': inferOp('Inference on one version', [model, version]),
      '/v2/models/{model}/config': meta('KServe V2', "Model configuration extension: Triton's model-config JSON", [
        model,
      ]),
      '/v2/models/{model}/versions/{version}/config': meta('KServe V2', 'Model configuration of one version', [
        model,
        version,
      ]),
      '/v2/models/stats': meta('KServe V2', 'Statistics extension: every ready version (metrics scope)', []),
      '/v2/models/{model}/stats': meta('KServe V2', "Statistics extension: the model's ready versions", [model]),
      '/v2/models/{model}/versions/{version}/stats': meta('KServe V2', 'Statistics extension: one version', [
        model,
        version,
      ]),
      '/v2/repository/index': admin('Repository index: every model folder with its versions and states', []),
      '/v2/repository/models/{model}/load': admin(
        '(Re)load a model: new versions go live once warmed up, old ones drain',
        [model],
      ),
      '/v2/repository/models/{model}/unload': admin('Unload a model after draining it', [model]),
      '/v1/models/{model}': meta('TF Serving', 'Model version status', [model]),
      '/v1/models/{model}/versions/{version}': meta('TF Serving', 'Model version status', [model, version]),
      '/v1/models/{model}/metadata': meta('TF Serving', 'Signature metadata', [model]),
      '/v1/models/{model}/versions/{version}/metadata': meta('TF Serving', 'Signature metadata', [model, version]),
      '/v1/models/{model}:predict': predict('Predict on the newest ready version', [model]),
      '/v1/models/{model}/versions/{version}:predict': predict('Predict on one version', [model, version]),
      '/v1/models/{model}/labels/{label}:predict': predict('Predict on a labelled version', [model, label]),
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (metrics or admin scope)',
          tags: ['Operations'],
          responses: { '200': { description: 'text/plain exposition format' } },
        },
      },
      '/docs': {
        get: { summary: 'This document', tags: ['Operations'], responses: { '200': ok('OpenAPI document') } },
      },
    },
  };
}
