// The device that creation functions (tensor, zeros, randn, ..., and so the layers' parameters)
// use when none is given.
import { getBackend, type Device } from '../backends/backend';

let current: Device = 'cpu';

/**
 * Make `device` the default for new tensors and layers (initially 'cpu'). WebGPU must be
 * initialised first (`await initWebGPU()`); an unknown or uninitialised device throws here
 * rather than at the next tensor.
 *
 * @example
 * await initWebGPU();
 * setDefaultDevice('webgpu');
 * const net = new Linear(3, 1);   // parameters on webgpu
 */
export function setDefaultDevice(device: Device): void {
  getBackend(device);
  current = device;
}

/**
 * The device new tensors get when none is given.
 *
 * @example
 * getDefaultDevice();   // 'cpu'
 */
export function getDefaultDevice(): Device {
  return current;
}
