/**
 * ONNX Runtime session options for every place that creates a session (the trainer's parity check, the registry's
 * inspection, the deployer's serving, the benchmarks): one thread each, sequential execution, full graph
 * optimisation, and threads that sleep rather than spin when idle, so a 2-core machine shared by six services is
 * not kept busy by idle sessions. Structurally an `InferenceSession.SessionOptions` of onnxruntime-node.
 */
export const ONNX_SESSION_OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
} as const;
