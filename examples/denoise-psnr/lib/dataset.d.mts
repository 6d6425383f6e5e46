/** Types of dataset.mjs for TypeScript tests. */
export interface DatasetOptions {
  seed: number;
  size: number;
  count: number;
  sigma: number;
  sigmaSpread: number;
  supersample: number;
}
export interface DatasetImage {
  name: string;
  kind: string;
  split: 'train' | 'validation';
  sigma: number;
  width: number;
  height: number;
  clean: Uint8Array;
  noisy: Uint8Array;
}
export declare const DATASET: DatasetOptions;
export declare const KINDS: readonly string[];
export declare function generateDataset(options?: DatasetOptions): DatasetImage[];
