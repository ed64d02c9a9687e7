/** cluster-key-slot (ioredis' own dependency) ships no types: the one function used here. */
declare module "cluster-key-slot" {
  /** The cluster slot (0 to 16383) of a key, its hash tag's when it has one. */
  export default function calculateSlot(key: string | Buffer): number;
}
