/** Types of image.mjs for TypeScript tests. */
export interface Image {
  width: number;
  height: number;
  data: Float32Array;
}
export declare function createImage(width: number, height: number, data?: Float32Array): Image;
export declare function fromBytes(width: number, height: number, bytes: ArrayLike<number>): Image;
export declare function toBytes(image: Image): Uint8Array;
export declare function encodePgm(width: number, height: number, bytes: Uint8Array): Buffer;
export declare function decodePgm(buffer: Buffer): { width: number; height: number; bytes: Uint8Array };
