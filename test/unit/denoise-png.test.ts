import { inflateSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { crc32, decodePng, encodePng } from '../../examples/denoise-psnr/lib/png.mjs';

describe('crc32', () => {
  test('gives the standard check value for "123456789"', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
  });
});

describe('encodePng', () => {
  const png = encodePng(2, 2, Uint8Array.from([0, 64, 128, 255]));

  test('writes the signature and an IHDR for 2×2, 8-bit grayscale, with its known CRC', () => {
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(png.subarray(8, 33).toString('hex')).toBe(
      '0000000d' + '49484452' + '00000002' + '00000002' + '0800000000' + '57dd52f8',
    );
  });

  test('ends with the fixed IEND chunk', () => {
    expect(png.subarray(-12).toString('hex')).toBe('0000000049454e44ae426082');
  });

  test('stores each row behind filter byte 0 in a zlib stream', () => {
    const length = png.readUInt32BE(33);
    expect(png.toString('ascii', 37, 41)).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + length));
    expect([...raw]).toEqual([0, 0, 64, 0, 128, 255]);
  });
});

describe('decodePng', () => {
  test('round-trips an image of odd size', () => {
    const bytes = Uint8Array.from({ length: 37 * 23 }, (_, i) => (i * 7919) % 256);
    const out = decodePng(encodePng(37, 23, bytes));
    expect(out.width).toBe(37);
    expect(out.height).toBe(23);
    expect(out.pixels).toEqual(bytes);
  });

  test('rejects a chunk whose CRC does not match', () => {
    const png = Buffer.from(encodePng(2, 2, Uint8Array.from([1, 2, 3, 4])));
    png[20] = 0xff - png[20]!;
    expect(() => decodePng(png)).toThrow('PNG chunk IHDR: CRC mismatch');
  });
});
