// The devices a backend-parametrized suite runs on (`describe.each(DEVICES)`). CPU always;
// WebGPU is added by its setup once an adapter is found (see the WebGPU issue).
import type { Device } from '../../src';

export const DEVICES: Device[] = ['cpu'];
