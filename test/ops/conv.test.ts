// Sliding windows, fold, conv2d and pooling with drawn shapes and arguments: VJP against float64
// central differences, forward against naive loops (float64 and float32), and second order.
import { describeOpTable } from '../helpers/optable';
import { convCases } from './cases/conv';

describeOpTable('convolution', convCases, { vjp: 20, forward: 30, float32: 15, secondOrder: 8 });
