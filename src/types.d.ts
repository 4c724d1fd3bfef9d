declare module 'ndarray-ops';
