/**
 * Reverse-mode autograd. Each op output that depends on a tensor requiring a gradient gets
 * a GradNode (its op, inputs and backward); `gradients` walks those nodes from a scalar in
 * reverse topological order, accumulating where a tensor is used more than once.
 * Backward closures run with recording off: Tessera computes first derivatives only.
 */
import { isGradEnabled, noGrad } from '../tensor/engine.js';
import { fmtShape, ShapeError, ValueError } from '../tensor/errors.js';
import { type GradNode, Tensor, Variable } from '../tensor/tensor.js';

/** Attach a backward to an op's output when recording is on and some input needs a gradient. */
export function record(out: Tensor, op: string, inputs: readonly Tensor[], backward: GradNode['backward']): Tensor {
  if (!isGradEnabled()) return out;
  for (const x of inputs) {
    if (x.requiresGrad) {
      out.node = { op, inputs, backward };
      out.requiresGrad = true;
      return out;
    }
  }
  return out;
}

/** Adds two gradients of the same shape (kept here so the tape does not depend on ops/). */
let addForAccumulation: (a: Tensor, b: Tensor) => Tensor = (a, b) => {
  const out = Tensor.empty(a.shape, a.dtype);
  const ad = a.data;
  const bd = b.data;
  const od = out.data;
  for (let i = 0; i < od.length; i++) od[i] = (ad[i] as number) + (bd[i] as number);
  return out;
};

/** ops/ installs the backend-accelerated add here at load time. */
export function setGradientAccumulator(fn: (a: Tensor, b: Tensor) => Tensor): void {
  addForAccumulation = fn;
}

/**
 * d(y)/d(x) for each x in `xs`. y must be a scalar unless `dy` (the seed gradient, y's shape) is given.
 * Tensors y does not depend on get null.
 */
export function gradients(y: Tensor, xs: readonly Tensor[], dy?: Tensor): (Tensor | null)[] {
  if (!dy && y.size !== 1) {
    throw new ShapeError(
      `gradients: backward from a non-scalar tensor of shape ${fmtShape(y.shape)} needs a seed gradient of that shape (or reduce it to a scalar first, e.g. with sum or mean)`,
    );
  }
  if (dy && dy.size !== y.size) {
    throw new ShapeError(`gradients: seed gradient has shape ${fmtShape(dy.shape)}, expected ${fmtShape(y.shape)}`);
  }
  const order = topoOrder(y);
  const grads = new Map<Tensor, Tensor>();
  noGrad(() => {
    const seed = dy ?? Tensor.empty(y.shape, 'float32');
    if (!dy) seed.data.fill(1);
    grads.set(y, seed);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i] as Tensor;
      const g = grads.get(t);
      const node = t.node;
      if (!g || !node) continue;
      const inputGrads = node.backward(g);
      for (let j = 0; j < node.inputs.length; j++) {
        const x = node.inputs[j] as Tensor;
        const gx = inputGrads[j];
        if (!gx || !x.requiresGrad) continue;
        if (gx.size !== x.size) {
          throw new ShapeError(
            `gradients: backward of '${node.op}' gave a gradient of shape ${fmtShape(gx.shape)} for an input of shape ${fmtShape(x.shape)}`,
          );
        }
        const prev = grads.get(x);
        grads.set(x, prev ? addForAccumulation(prev, gx) : gx);
      }
      // Intermediate gradients are not needed once propagated; free them for the GC.
      if (!xs.includes(t)) grads.delete(t);
    }
  });
  return xs.map((x) => {
    const g = grads.get(x);
    if (!g) return null;
    return g.shape.length === x.shape.length && g.shape.every((d, i) => d === x.shape[i]) ? g : g.view(x.shape);
  });
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep graphs (long RNN unrolls) must not overflow the JS stack.
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [Tensor, number];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const x = inputs[i] as Tensor;
      if (x.requiresGrad && !seen.has(x)) {
        seen.add(x);
        stack.push([x, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/** A leaf that requires a gradient and shares x's values. Variables are used as they are. */
function asLeaf(x: Tensor): Tensor {
  if (x instanceof Variable) return x;
  const leaf = new Tensor(x.data, x.shape, x.dtype, false);
  leaf.requiresGrad = true;
  return leaf;
}

export interface ValueAndGrads {
  value: Tensor;
  grads: Tensor[];
}

/**
 * Returns a function giving f's value and its gradient with respect to every argument.
 * @example const { value, grads } = valueAndGrad((a, b) => sum(mul(a, b)))(x, y)
 */
export function valueAndGrad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => ValueAndGrads {
  return (...xs) => {
    const leaves = xs.map(asLeaf);
    const value = f(...leaves);
    if (!(value instanceof Tensor)) throw new ValueError('valueAndGrad: f must return a Tensor');
    if (value.size !== 1) {
      throw new ShapeError(
        `valueAndGrad: f returned a tensor of shape ${fmtShape(value.shape)}; a gradient needs a scalar output (reduce it with sum or mean)`,
      );
    }
    const gs = gradients(value, leaves);
    const grads = gs.map((g, i) => g ?? Tensor.empty((xs[i] as Tensor).shape, 'float32', true));
    return { value, grads };
  };
}

/**
 * Returns a function giving the gradient of scalar f with respect to its first argument.
 * @example grad((x) => sum(square(x)))(tensor([1, 2])) // [2, 4]
 */
export function grad(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor {
  const vg = valueAndGrad(f);
  return (...xs) => vg(...xs).grads[0] as Tensor;
}

/** Gradients with respect to every argument. */
export function grads(f: (...xs: Tensor[]) => Tensor): (...xs: Tensor[]) => Tensor[] {
  const vg = valueAndGrad(f);
  return (...xs) => vg(...xs).grads;
}

/**
 * The value of f() and its gradients with respect to `variables` (the trainable parameters it uses).
 * This is what optimizers and custom training loops call.
 */
export function variableGrads(
  f: () => Tensor,
  variables: readonly Variable[],
): { value: Tensor; grads: Map<Variable, Tensor | null> } {
  const value = f();
  const gs = gradients(value, variables);
  return { value, grads: new Map(variables.map((v, i) => [v, gs[i] ?? null])) };
}
