import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as root from 'tessera';
import * as api from '../../src/layers/index.js';
import { constraints, initializers, Layer, layerFromConfig, layers, regularizers } from '../../src/layers/index.js';

const minimal: Record<string, Record<string, unknown>> = {
  dense: { units: 2 },
  activation: { activation: 'tanh' },
  dropout: { rate: 0.1 },
  reshape: { targetShape: [-1] },
  permute: { dims: [1] },
  repeatVector: { n: 2 },
  conv1d: { filters: 2, kernelSize: 3 },
  conv2d: { filters: 2, kernelSize: 3 },
  depthwiseConv2d: { kernelSize: 3 },
  separableConv2d: { filters: 2, kernelSize: 3 },
  inputLayer: { inputShape: [3] },
  embedding: { inputDim: 10, outputDim: 4 },
  simpleRnn: { units: 2 },
  lstm: { units: 2 },
  gru: { units: 2 },
  multiHeadAttention: { numHeads: 2, keyDim: 4 },
  positionalEmbedding: { sequenceLength: 8 },
  tokenAndPositionEmbedding: { vocabularySize: 10, sequenceLength: 8, embeddingDim: 4 },
  transformerEncoder: { numHeads: 2, intermediateDim: 8 },
};

// Wrappers take a layer instance rather than plain options.
const wrapped = (name: string): Record<string, unknown> | undefined =>
  name === 'bidirectional' || name === 'timeDistributed' ? { layer: layers.lstm({ units: 2 }) } : undefined;

const kerasNames: Record<string, string> = {
  Dense: 'dense',
  Conv2D: 'conv2d',
  Conv1D: 'conv1d',
  DepthwiseConv2D: 'depthwise_conv2d',
  SeparableConv2D: 'separable_conv2d',
  MaxPooling2D: 'max_pooling2d',
  AveragePooling1D: 'average_pooling1d',
  GlobalMaxPooling2D: 'global_max_pooling2d',
  BatchNormalization: 'batch_normalization',
  LayerNormalization: 'layer_normalization',
  ZeroPadding2D: 'zero_padding2d',
  UpSampling2D: 'up_sampling2d',
  Concatenate: 'concatenate',
};

describe('layers namespace', () => {
  test('has every factory the issue lists', () => {
    const wanted =
      'input dense activation dropout flatten reshape permute conv1d conv2d depthwiseConv2d separableConv2d maxPooling1d maxPooling2d averagePooling1d averagePooling2d globalAveragePooling1d globalAveragePooling2d globalMaxPooling1d globalMaxPooling2d batchNormalization layerNormalization zeroPadding2d upSampling2d add subtract multiply average maximum minimum concatenate'.split(
        ' ',
      );
    for (const name of wanted) assert.equal(typeof (layers as Record<string, unknown>)[name], 'function', name);
  });

  test('every factory builds a registered layer whose config round-trips through layerFromConfig', () => {
    for (const [name, factory] of Object.entries(layers)) {
      if (name === 'input') continue;
      const layer = (factory as (a: unknown) => Layer)(wrapped(name) ?? minimal[name] ?? {});
      assert.ok(layer instanceof Layer, name);
      const config = JSON.parse(JSON.stringify(layer.getConfig()));
      const copy = layerFromConfig(layer.className, { ...config, name: `${config.name}_rt` });
      assert.equal(copy.className, layer.className);
      assert.deepEqual(JSON.parse(JSON.stringify({ ...copy.getConfig(), name: config.name })), config, name);
      const expected = kerasNames[layer.className];
      if (expected) assert.match(layer.name, new RegExp(`^${expected}(_\\d+)?$`), layer.className);
    }
  });

  test('initializer / regularizer / constraint namespaces', () => {
    assert.equal(initializers.heNormal({ seed: 1 }).className, 'HeNormal');
    assert.equal(regularizers.l2({ l2: 1e-4 }).l2, 1e-4);
    assert.equal(constraints.maxNorm().maxValue, 2);
    assert.equal(typeof api.getActivation, 'function');
    assert.equal(typeof api.getInitializer, 'function');
    assert.equal(typeof api.getRegularizer, 'function');
    assert.equal(typeof api.getConstraint, 'function');
  });

  test('no export of the layers module clashes with the package root (ops, tensors, ...)', () => {
    const rootNames = new Set(Object.keys(root));
    const clashes = Object.keys(api).filter(
      (k) => rootNames.has(k) && (root as Record<string, unknown>)[k] !== (api as Record<string, unknown>)[k],
    );
    assert.deepEqual(clashes, []);
  });
});
