export type { DeliveryObserver } from "./processor";
export {
  type DeliveryWorker,
  type DeliveryWorkerOptions,
  startDeliveryWorker,
  WORKER_VERSION,
} from "./worker";
