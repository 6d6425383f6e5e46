/** Types of png.mjs for TypeScript tests. */
export declare function crc32(bytes: Uint8Array): number;
export declare function encodePng(width: number, height: number, bytes: Uint8Array): Buffer;
export declare function decodePng(buffer: Buffer): { width: number; height: number; pixels: Uint8Array };
