// Activations as modules (for Sequential); the same functions on tensors are `relu(x)`,
// `sigmoid(x)`, `tanh(x)`, `leakyRelu(x, slope)`, `softplus(x)` (and the Tensor methods).
import { Module } from './module';
import type { Tensor } from './util';

/**
 * max(x, 0)
 *
 * @example
 * new Sequential(new Linear(2, 8), new ReLU(), new Linear(8, 1));
 */
export class ReLU extends Module {
  // a literal, not constructor.name: minifiers rename classes
  override describe(): string {
    return 'ReLU';
  }
  forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * 1 / (1 + e^−x)
 *
 * @example
 * new Sigmoid().forward(tensor([0]));   // [0.5]
 */
export class Sigmoid extends Module {
  // a literal, not constructor.name: minifiers rename classes
  override describe(): string {
    return 'Sigmoid';
  }
  forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/**
 * tanh(x)
 *
 * @example
 * new Sequential(new Linear(1, 16), new Tanh(), new Linear(16, 1));
 */
export class Tanh extends Module {
  // a literal, not constructor.name: minifiers rename classes
  override describe(): string {
    return 'Tanh';
  }
  forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/**
 * x for x > 0, slope·x otherwise (default slope 0.01)
 *
 * @example
 * new LeakyReLU(0.1).forward(tensor([-2, 3]));   // [-0.2, 3]
 */
export class LeakyReLU extends Module {
  constructor(readonly slope = 0.01) {
    super();
  }
  override describe(): string {
    return `LeakyReLU(${this.slope})`;
  }
  forward(x: Tensor): Tensor {
    return x.leakyRelu(this.slope);
  }
}

/**
 * log(1 + eˣ), computed without overflow
 *
 * @example
 * new Softplus().forward(tensor([0]));   // [log 2]
 */
export class Softplus extends Module {
  // a literal, not constructor.name: minifiers rename classes
  override describe(): string {
    return 'Softplus';
  }
  forward(x: Tensor): Tensor {
    return x.softplus();
  }
}
