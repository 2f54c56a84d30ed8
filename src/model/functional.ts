/**
 * Functional models: `model({ inputs, outputs })` over the SymbolicTensors that layers return when
 * called on `input({ shape })` placeholders. The graph of layer calls is ordered topologically
 * once; a forward pass walks it with tensors in preassigned slots. Several inputs/outputs,
 * shared layers (one layer, several calls), nested models and merge layers are supported.
 */
import {
  type CallContext,
  type Layer,
  type LayerArgs,
  layerFromConfig,
  registerLayer,
  type ShapeLike,
} from '../layers/layer.js';
import { SymbolicTensor } from '../layers/symbolic.js';
import { ValueError } from '../tensor/errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { denseLogits } from './dense-logits.js';
import { Model } from './model.js';
import { formatShape } from './summary.js';

/** Options of `model()`. */
export interface FunctionalArgs extends LayerArgs {
  inputs: SymbolicTensor | SymbolicTensor[];
  outputs: SymbolicTensor | SymbolicTensor[];
}

interface GraphNode {
  layer: Layer;
  inputs: readonly SymbolicTensor[];
  inSlots: number[];
  /** Slot of each output index (-1 when that output is unused). */
  outSlots: number[];
  outShapes: ShapeLike[];
  listInput: boolean;
  /** Reused argument list for list-input layers. */
  args: Tensor[];
  /** This call's index among the calls of the same layer in this model. */
  nodeIndex: number;
  /** The model output this node's value is, when it can be computed as fused logits. */
  fusedOutput: number;
}

type NodeRef = [string, number, number, Record<string, unknown>];

export class Functional extends Model {
  readonly className: string = 'Functional';
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  private readonly outputsAreList: boolean;
  private readonly nodes: GraphNode[] = [];
  private readonly layerList: Layer[] = [];
  private readonly inputSlots: number[];
  private readonly outputSlots: number[];
  private readonly values: Tensor[];
  /** Node (and output index) that produced each symbolic tensor, for the config's inbound refs. */
  private readonly producer = new Map<SymbolicTensor, { layer: Layer; nodeIndex: number; tensorIndex: number }>();

  constructor(args: FunctionalArgs) {
    super(args);
    this.inputs = Array.isArray(args.inputs) ? [...args.inputs] : [args.inputs];
    this.outputsAreList = Array.isArray(args.outputs);
    this.outputs = Array.isArray(args.outputs) ? [...args.outputs] : [args.outputs];
    if (this.inputs.length === 0 || this.outputs.length === 0) {
      throw new ValueError(
        `model '${this.name}' needs at least one input and one output, got ${this.inputs.length} and ${this.outputs.length}`,
      );
    }
    for (const [i, s] of this.inputs.entries()) {
      if (!(s instanceof SymbolicTensor) || s.inputs.length !== 0) {
        throw new ValueError(
          `model '${this.name}': inputs[${i}] must be a placeholder from input({ shape }), got ${describe(s)}`,
        );
      }
    }
    for (const [i, s] of this.outputs.entries()) {
      if (!(s instanceof SymbolicTensor))
        throw new ValueError(`model '${this.name}': outputs[${i}] must be a symbolic tensor, got ${describe(s)}`);
    }
    (this as { multiInput: boolean }).multiInput = this.inputs.length > 1;

    // Slots: one per distinct symbolic value.
    const slotOf = new Map<SymbolicTensor, number>();
    let nextSlot = 0;
    for (const s of this.inputs) if (!slotOf.has(s)) slotOf.set(s, nextSlot++);
    for (const s of this.inputs) this.producer.set(s, { layer: s.sourceLayer, nodeIndex: 0, tensorIndex: 0 });

    // Depth-first from the outputs: a node is one layer call, identified by (layer, inputs list).
    const nodeOf = new Map<Layer, Map<readonly SymbolicTensor[], GraphNode>>();
    const visiting = new Set<GraphNode>();
    const done = new Set<GraphNode>();
    const callCounts = new Map<Layer, number>();
    const consumers = new Map<SymbolicTensor, number>();
    const visit = (s: SymbolicTensor, path: string): void => {
      if (s.inputs.length === 0) {
        if (!slotOf.has(s) || !this.inputs.includes(s)) {
          throw new ValueError(
            `model '${this.name}': the outputs depend on input '${s.sourceLayer.name}' ${formatShape(s.shape)}, which is not in inputs (${this.inputs.map((i) => i.sourceLayer.name).join(', ')})`,
          );
        }
        return;
      }
      let byInputs = nodeOf.get(s.sourceLayer);
      if (!byInputs) nodeOf.set(s.sourceLayer, (byInputs = new Map()));
      let node = byInputs.get(s.inputs);
      if (!node) {
        node = {
          layer: s.sourceLayer,
          inputs: s.inputs,
          inSlots: [],
          outSlots: [],
          outShapes: [],
          listInput: s.inputs.length > 1 || s.sourceLayer.multiInput,
          args: [],
          nodeIndex: -1,
          fusedOutput: -1,
        };
        byInputs.set(s.inputs, node);
      }
      const n = node;
      if (n.outSlots[s.outputIndex] === undefined || n.outSlots[s.outputIndex] === -1) {
        while (n.outSlots.length <= s.outputIndex) {
          n.outSlots.push(-1);
          n.outShapes.push([]);
        }
        n.outSlots[s.outputIndex] = nextSlot++;
        n.outShapes[s.outputIndex] = s.shape;
      }
      slotOf.set(s, n.outSlots[s.outputIndex] as number);
      if (done.has(n)) {
        this.producer.set(s, { layer: n.layer, nodeIndex: n.nodeIndex, tensorIndex: s.outputIndex });
        return;
      }
      if (visiting.has(n))
        throw new ValueError(`model '${this.name}': the layer graph has a cycle through ${n.layer.name}`);
      visiting.add(n);
      for (const x of n.inputs) {
        consumers.set(x, (consumers.get(x) ?? 0) + 1);
        visit(x, `${path} <- ${n.layer.name}`);
      }
      visiting.delete(n);
      done.add(n);
      n.inSlots = n.inputs.map((x) => slotOf.get(x) as number);
      n.nodeIndex = callCounts.get(n.layer) ?? 0;
      callCounts.set(n.layer, n.nodeIndex + 1);
      this.producer.set(s, { layer: n.layer, nodeIndex: n.nodeIndex, tensorIndex: s.outputIndex });
      this.nodes.push(n);
    };
    for (const s of this.outputs) visit(s, s.sourceLayer.name);
    // Producers of every output index of multi-output nodes seen after the node finished.
    this.values = new Array(nextSlot);
    this.inputSlots = this.inputs.map((s) => slotOf.get(s) as number);
    this.outputSlots = this.outputs.map((s) => slotOf.get(s) as number);

    const seen = new Set<Layer>();
    for (const s of this.inputs)
      if (!seen.has(s.sourceLayer)) seen.add(s.sourceLayer) && this.layerList.push(s.sourceLayer);
    for (const n of this.nodes) if (!seen.has(n.layer)) seen.add(n.layer) && this.layerList.push(n.layer);
    const nodeByOut = new Map<SymbolicTensor, GraphNode>();
    for (const n of this.nodes)
      for (const s of this.outputs) if (s.inputs === n.inputs && s.sourceLayer === n.layer) nodeByOut.set(s, n);
    this.outputs.forEach((s, i) => {
      const n = nodeByOut.get(s);
      const single = n && n.outSlots.length === 1 && !consumers.has(s);
      const once = this.outputs.filter((o) => o === s).length === 1;
      if (n && single && once) n.fusedOutput = i;
    });
    this.built = true;
  }

  get layers(): Layer[] {
    return this.layerList;
  }

  get inputNames(): string[] {
    return this.inputs.map((s) => s.sourceLayer.name);
  }

  get outputNames(): string[] {
    const names = this.outputs.map((s) => s.sourceLayer.name);
    return names.map((n, i) =>
      names.indexOf(n) !== names.lastIndexOf(n) ? `${n}_${(this.outputs[i] as SymbolicTensor).outputIndex}` : n,
    );
  }

  get multiOutput(): boolean {
    return this.outputsAreList;
  }

  outputShapes(): ShapeLike[] {
    return this.outputs.map((s) => s.shape);
  }

  buildFromShapes(shapes: ShapeLike[]): void {
    if (shapes.length !== this.inputs.length) {
      throw new ValueError(`model '${this.name}' has ${this.inputs.length} input(s), got ${shapes.length}`);
    }
  }

  forward(xs: Tensor[], ctx: CallContext, fused?: readonly boolean[] | null): Tensor[] {
    if (xs.length !== this.inputs.length) {
      throw new ValueError(
        `model '${this.name}' has ${this.inputs.length} input(s) (${this.inputNames.join(', ')}), got ${xs.length} tensor(s)`,
      );
    }
    const values = this.values;
    for (let i = 0; i < xs.length; i++) values[this.inputSlots[i] as number] = xs[i] as Tensor;
    const nodes = this.nodes;
    for (let k = 0; k < nodes.length; k++) {
      const n = nodes[k] as GraphNode;
      let arg: Tensor | Tensor[];
      if (n.listInput) {
        for (let j = 0; j < n.inSlots.length; j++) n.args[j] = values[n.inSlots[j] as number] as Tensor;
        n.args.length = n.inSlots.length;
        arg = n.args;
      } else arg = values[n.inSlots[0] as number] as Tensor;
      const l = n.layer;
      if (fused && n.fusedOutput >= 0 && fused[n.fusedOutput]) {
        values[n.outSlots[0] as number] = denseLogits(l, arg as Tensor);
        continue;
      }
      const out = l.built ? l.call(arg, ctx) : l.apply(arg, ctx);
      if (Array.isArray(out)) {
        for (let j = 0; j < n.outSlots.length; j++) {
          const slot = n.outSlots[j] as number;
          if (slot >= 0) values[slot] = out[j] as Tensor;
        }
      } else values[n.outSlots[0] as number] = out;
    }
    const result = this.outputSlots.map((s) => values[s] as Tensor);
    values.fill(undefined as unknown as Tensor);
    return result;
  }

  fusableOutputLayer(i: number): Layer | null {
    const n = this.nodes.find((node) => node.fusedOutput === i);
    return n ? n.layer : null;
  }

  private inboundRefs(n: GraphNode): NodeRef[] {
    return n.inputs.map((s) => {
      const p = this.producer.get(s);
      if (!p) throw new ValueError(`model '${this.name}': internal error, no producer for an input of ${n.layer.name}`);
      return [p.layer.name, p.nodeIndex, p.tensorIndex, {}];
    });
  }

  summaryRows(): { name: string; shape: string; params: number; connected: string }[] {
    return this.layerList.map((l) => {
      const mine = this.nodes.filter((n) => n.layer === l);
      const inputSym = this.inputs.find((s) => s.sourceLayer === l);
      const shapes =
        mine.length > 0
          ? mine.map((n) => n.outShapes.map(formatShape).join(', '))
          : [formatShape(inputSym?.shape ?? [])];
      const connected = mine
        .flatMap((n) => this.inboundRefs(n).map(([name, ni, ti]) => `${name}[${ni}][${ti}]`))
        .join(', ');
      return {
        name: `${l.name} (${l.className})`,
        shape: [...new Set(shapes)].join(' | '),
        params: l.countParams(),
        connected: connected || '-',
      };
    });
  }

  override getConfig(): Record<string, unknown> {
    const layers = this.layerList.map((l) => {
      const inboundNodes = this.nodes
        .filter((n) => n.layer === l)
        .sort((a, b) => a.nodeIndex - b.nodeIndex)
        .map((n) => this.inboundRefs(n));
      return { name: l.name, className: l.className, config: l.getConfig(), inboundNodes };
    });
    const ref = (s: SymbolicTensor): [string, number, number] => {
      const p = this.producer.get(s);
      if (!p) throw new ValueError(`model '${this.name}': internal error, unknown output ${s.sourceLayer.name}`);
      return [p.layer.name, p.nodeIndex, p.tensorIndex];
    };
    return {
      name: this.name,
      trainable: this.trainable,
      layers,
      inputLayers: this.inputs.map(ref),
      outputLayers: this.outputs.map(ref),
      outputsAreList: this.outputsAreList,
    };
  }

  /** Rebuild from `getConfig()` (fresh weights), re-running the layer calls in dependency order. */
  static override fromConfig(
    json: { className: string; config: Record<string, unknown> } | Record<string, unknown>,
  ): Functional {
    const config = (
      'className' in json && 'config' in json && typeof json.config === 'object' ? json.config : json
    ) as Record<string, unknown>;
    const entries = config.layers as {
      name: string;
      className: string;
      config: Record<string, unknown>;
      inboundNodes: NodeRef[][];
    }[];
    if (!Array.isArray(entries))
      throw new ValueError(`Functional.fromConfig expected config.layers to be an array, got ${typeof entries}`);
    const byName = new Map<string, Layer>();
    const made = new Map<string, SymbolicTensor[]>();
    const pending: { layer: Layer; index: number; refs: NodeRef[] }[] = [];
    for (const e of entries) {
      const layer = layerFromConfig(e.className, e.config);
      byName.set(e.name, layer);
      if (e.className === 'InputLayer') {
        const shape = (e.config.batchInputShape ?? e.config.batchShape) as ShapeLike | undefined;
        if (!shape) throw new ValueError(`Functional.fromConfig: InputLayer '${e.name}' lacks batchInputShape`);
        made.set(`${e.name}#0`, [new SymbolicTensor(shape, (e.config.dtype as 'float32') ?? 'float32', layer, [], 0)]);
      }
      for (const [index, refs] of (e.inboundNodes ?? []).entries()) pending.push({ layer, index, refs });
    }
    let progress = true;
    while (pending.length > 0 && progress) {
      progress = false;
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i] as (typeof pending)[number];
        const ins = p.refs.map(([name, ni, ti]) => made.get(`${name}#${ni}`)?.[ti]);
        if (ins.some((s) => s === undefined)) continue;
        const syms = ins as SymbolicTensor[];
        const out = p.layer.apply(syms.length > 1 || p.layer.multiInput ? syms : (syms[0] as SymbolicTensor));
        made.set(`${p.layer.name}#${p.index}`, Array.isArray(out) ? out : [out]);
        pending.splice(i--, 1);
        progress = true;
      }
    }
    if (pending.length > 0) {
      throw new ValueError(
        `Functional.fromConfig: cannot connect ${pending.map((p) => p.layer.name).join(', ')}: their inputs are never produced`,
      );
    }
    const lookup = ([name, ni, ti]: [string, number, number]) => {
      const s = made.get(`${name}#${ni}`)?.[ti];
      if (!s) throw new ValueError(`Functional.fromConfig: unknown tensor ${name}[${ni}][${ti}]`);
      return s;
    };
    const inputs = (config.inputLayers as [string, number, number][]).map(lookup);
    const outputs = (config.outputLayers as [string, number, number][]).map(lookup);
    const listOut = config.outputsAreList !== undefined ? Boolean(config.outputsAreList) : outputs.length > 1;
    const m = new Functional({
      name: config.name as string | undefined,
      inputs: inputs.length === 1 ? (inputs[0] as SymbolicTensor) : inputs,
      outputs: listOut ? outputs : (outputs[0] as SymbolicTensor),
    });
    if (config.trainable === false) m.trainable = false;
    return m;
  }
}

function describe(v: unknown): string {
  if (v instanceof SymbolicTensor) return `a symbolic tensor from ${v.sourceLayer.name}`;
  return v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

registerLayer('Functional', (config) => Functional.fromConfig(config));
registerLayer('Model', (config) => Functional.fromConfig(config));

/**
 * A model from the graph between placeholders and outputs (Keras functional API).
 * @example
 * const x = input({ shape: [784] });
 * const h = dense({ units: 64, activation: 'relu' }).apply(x) as SymbolicTensor;
 * const y = dense({ units: 10, activation: 'softmax' }).apply(h) as SymbolicTensor;
 * const m = model({ inputs: x, outputs: y });
 */
export function model(args: FunctionalArgs): Functional {
  return new Functional(args);
}
