// Generated JS loops, where the page allows them. The elementwise kernels compile one loop per
// operand layout with new Function (the op's expression inlined, scalar loads hoisted, unit
// strides without index arithmetic). A page whose Content-Security-Policy lacks 'unsafe-eval'
// refuses that with an EvalError: the first refusal is remembered and every kernel then runs its
// plain-closure loops (elementwise.ts), so nothing is compiled from a string at import and a
// strict page costs one refused attempt, not one per op.

let refused = false;

/** `body` as a function of `params`, or null where eval is refused (then and from then on). */
export function compileLoop<F>(params: readonly string[], body: string): F | null {
  if (refused) return null;
  try {
    return new Function(...params, body) as F;
  } catch (e) {
    if (!(e instanceof EvalError)) throw e;
    refused = true;
    return null;
  }
}

/** Whether generated loops are refused here (an EvalError seen, or refuseEval(true)). */
export function evalRefused(): boolean {
  return refused;
}

/** Tests: behave as if eval were refused (true), or try it again (false). */
export function refuseEval(on: boolean): void {
  refused = on;
}
