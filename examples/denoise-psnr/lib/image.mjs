// Grayscale images as { width, height, data: Float32Array } on the 0–255 scale, row-major.

export function createImage(width, height, data = new Float32Array(width * height)) {
  return { width, height, data };
}

export function fromBytes(width, height, bytes) {
  return createImage(width, height, Float32Array.from(bytes));
}

/** Rounds and clamps to 0–255, the way a denoised image is stored. */
export function toBytes(image) {
  const out = new Uint8Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(255, Math.max(0, Math.round(image.data[i])));
  return out;
}

/** Symmetric boundary: index -1 reads 0, index n reads n-1. */
function mirror(i, n) {
  let j = i;
  while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - j - 1;
  return j;
}

/** A copy of the image with `pad` mirrored pixels on every side. */
export function padImage(image, pad) {
  const { width: w, height: h, data } = image;
  const pw = w + 2 * pad;
  const out = new Float32Array(pw * (h + 2 * pad));
  for (let y = 0; y < h + 2 * pad; y++) {
    const row = mirror(y - pad, h) * w;
    for (let x = 0; x < pw; x++) out[y * pw + x] = data[row + mirror(x - pad, w)];
  }
  return createImage(pw, h + 2 * pad, out);
}

/** Separable convolution with a symmetric 1-D kernel (odd length), mirrored borders. */
export function convolveSeparable(image, kernel) {
  const r = (kernel.length - 1) / 2;
  const { width: w, height: h } = image;
  const p = padImage(image, r);
  const pw = p.width;
  const tmp = new Float32Array(w * p.height);
  for (let y = 0; y < p.height; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      const base = y * pw + x;
      for (let k = 0; k < kernel.length; k++) s += kernel[k] * p.data[base + k];
      tmp[y * w + x] = s;
    }
  }
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += kernel[k] * tmp[(y + k) * w + x];
      out[y * w + x] = s;
    }
  }
  return createImage(w, h, out);
}

/** Mean over the (2r+1)² window around each pixel, mirrored borders, via an integral image. */
export function boxMean(image, radius) {
  const { width: w, height: h } = image;
  const p = padImage(image, radius);
  const pw = p.width;
  const iw = pw + 1;
  const integral = new Float64Array(iw * (p.height + 1));
  for (let y = 0; y < p.height; y++) {
    let row = 0;
    for (let x = 0; x < pw; x++) {
      row += p.data[y * pw + x];
      integral[(y + 1) * iw + x + 1] = integral[y * iw + x + 1] + row;
    }
  }
  const d = 2 * radius + 1;
  const n = d * d;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s =
        integral[(y + d) * iw + x + d] - integral[y * iw + x + d] - integral[(y + d) * iw + x] + integral[y * iw + x];
      out[y * w + x] = s / n;
    }
  }
  return createImage(w, h, out);
}

/** Element-wise combination of same-sized images. */
export function mapImages(images, fn) {
  const [first] = images;
  const out = new Float32Array(first.data.length);
  const values = new Array(images.length);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < images.length; k++) values[k] = images[k].data[i];
    out[i] = fn(...values);
  }
  return createImage(first.width, first.height, out);
}

/** Binary PGM (P5, maxval 255): the dataset's storage format, readable by most image viewers. */
export function encodePgm(width, height, bytes) {
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, 'ascii'), Buffer.from(bytes)]);
}

export function decodePgm(buffer) {
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(buffer.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('not an 8-bit binary PGM (P5, maxval 255)');
  const width = Number(header[1]);
  const height = Number(header[2]);
  const bytes = buffer.subarray(header[0].length, header[0].length + width * height);
  if (bytes.length !== width * height)
    throw new Error(`PGM truncated: expected ${width * height} bytes, got ${bytes.length}`);
  return { width, height, bytes: new Uint8Array(bytes) };
}
