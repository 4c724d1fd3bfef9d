// The tape of one training step, summarized from the public API: the net's layers are run one by
// one so every intermediate tensor is in hand, and grad() gives ∂loss/∂(each of them) in one
// backward pass. Kept behind tapeSummary() so a drawing from the library's own toDot can replace
// it once that exists.
import { grad, tidy, type Loss, type Sequential, type Tensor } from '../../src';
import type { TapeNode, TapeSummary } from './protocol';

/** ‖∂loss/∂t‖₂ of each layer output and parameter for one step on (x, y); the net is unchanged. */
export async function tapeSummary(
  net: Sequential,
  loss: Loss,
  lossLabel: string,
  x: Tensor,
  y: Tensor,
): Promise<TapeSummary> {
  const nodes: TapeNode[] = [
    { id: 'x', label: 'input', shape: x.shape, kind: 'input', gradNorm: null },
  ];
  const edges: [string, string][] = [];
  const norms = tidy(() => {
    const tracked: Tensor[] = [];
    let h = x;
    let prev = 'x';
    for (let i = 0; i < net.length; i++) {
      const layer = net.at(i);
      const id = `l${i}`;
      for (const [name, p] of layer.namedParameters()) {
        const pid = `${id}.${name}`;
        nodes.push({ id: pid, label: name, shape: p.shape, kind: 'parameter', gradNorm: null });
        edges.push([pid, id]);
        tracked.push(p);
      }
      h = layer.forward(h);
      nodes.push({
        id,
        label: layer.describe(),
        shape: h.shape,
        kind: 'activation',
        gradNorm: null,
      });
      edges.push([prev, id]);
      tracked.push(h);
      prev = id;
    }
    const l = loss.forward(h, y);
    nodes.push({
      id: 'loss',
      label: `loss: ${lossLabel}`,
      shape: l.shape,
      kind: 'loss',
      gradNorm: 1,
    });
    edges.push([prev, 'loss']);
    const gs = grad(l, tracked);
    // −1 marks a tensor the loss does not depend on
    return gs.map((g) => (g ? g.square().sum().sqrt() : l.mul(0).sub(1)));
  });
  const values = await Promise.all(norms.map(async (n) => (await n.data())[0]!));
  norms.forEach((n) => n.dispose());
  // the tracked tensors in order are exactly the non-input, non-loss nodes
  nodes
    .filter((n) => n.kind === 'parameter' || n.kind === 'activation')
    .forEach((n, i) => {
      n.gradNorm = values[i]! < 0 ? null : values[i]!;
    });
  return { nodes, edges };
}
