export { type MetricsServer, startMetricsServer, WorkerMetrics } from "./metrics";
export type { DeliveryObserver } from "./processor";
export { type PreparedRequest, prepareRequest } from "./request";
export { type DeliveryStat, StatsRecorder } from "./stats-recorder";
export {
  type DeliveryWorker,
  type DeliveryWorkerOptions,
  startDeliveryWorker,
  WORKER_VERSION,
} from "./worker";
