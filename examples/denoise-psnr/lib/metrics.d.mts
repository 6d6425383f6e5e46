/** Types of metrics.mjs for TypeScript tests. */
type Samples = ArrayLike<number>;
export declare function mse(a: Samples, b: Samples): number;
export declare function psnr(a: Samples, b: Samples): number;
export declare function ssim(a: Samples, b: Samples, width: number, height: number): number;
