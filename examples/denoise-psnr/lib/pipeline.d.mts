/** Types of pipeline.mjs for TypeScript tests. */
import type { Image } from './image.d.mts';

export interface Step {
  op: string;
  blend?: number;
  [param: string]: string | number | undefined;
}
export interface Pipeline {
  description?: string;
  steps: Step[];
}
export declare function pipelineProblems(pipeline: unknown): string[];
export declare function readPipeline(file: string): Pipeline;
export declare function runPipeline(pipeline: Pipeline, image: Image): Image;
export declare function describePipeline(pipeline: Pipeline): string;
