export { FIRST_WINDOW } from "./hook-gate";
export { type MetricsServer, startMetricsServer, WorkerMetrics } from "./metrics";
export { type DeliveryStat, StatsRecorder } from "./stats-recorder";
export {
  type DeliveryWorker,
  type DeliveryWorkerOptions,
  startDeliveryWorker,
  WORKER_VERSION,
} from "./worker";
export type { DeliveryObserver } from "./worker-context";
