/** Types of setup.mjs for TypeScript tests and the demo command. */
export declare const EXAMPLE_DIR: string;
export declare function setupRoot(root: string): {
  root: string;
  codeFilesWritten: number;
  pipelineCreated: boolean;
  dataImages: number;
  dataFilesWritten: number;
};
