// ThumbHash placeholders: a ~25-byte description of a picture's colours and layout (the API
// hands it over base64-encoded), decoded here into a tiny image shown, blurred by the browser's
// upscaling, while the real thumbnail loads.
//
//   tile.style.backgroundImage = `url("${placeholderUrl(item.placeholder)}")`;
//
// The hash stores a DC value and a few low-frequency cosine coefficients per channel, in an
// LPQ colour space (luminance plus two opponent colours) and optionally alpha:
//   bytes 0-2  l_dc:6  p_dc:6  q_dc:6  l_scale:5  has_alpha:1
//   bytes 3-4  lx_or_ly:3  p_scale:6  q_scale:6  is_landscape:1
//   byte  5    a_dc:4  a_scale:4                      (only with alpha)
//   then 4-bit AC coefficients: L, then P, Q (and A), each in a triangle of (cx, cy) with
//   cx * ny < nx * (ny - cy), (0, 0) being the DC term above.

const CACHE_LIMIT = 4000;
const cache = new Map();

function bytesOf(text) {
  // Accept the URL-safe alphabet and missing padding too.
  let clean = String(text).trim().replace(/-/g, "+").replace(/_/g, "/");
  while (clean.length % 4) clean += "=";
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Read the coefficient triangle of one channel, scaled to [-scale, scale].
function readChannel(reader, nx, ny, scale) {
  const values = [];
  for (let cy = 0; cy < ny; cy += 1) {
    for (let cx = cy === 0 ? 1 : 0; cx * ny < nx * (ny - cy); cx += 1) {
      values.push((reader.next() / 7.5 - 1) * scale);
    }
  }
  return values;
}

// Nibbles in order, low half of each byte first.
function nibbleReader(bytes, start) {
  let index = 0;
  return {
    next() {
      const byte = bytes[start + (index >> 1)] ?? 0;
      const value = (byte >> ((index & 1) * 4)) & 15;
      index += 1;
      return value;
    },
  };
}

function header(bytes) {
  if (bytes.length < 5) throw new Error("thumbhash too short");
  const h24 = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16);
  const h16 = bytes[3] | (bytes[4] << 8);
  const hasAlpha = (h24 >> 23) & 1;
  const landscape = (h16 >> 15) & 1;
  const longSide = hasAlpha ? 5 : 7;
  return {
    lDc: (h24 & 63) / 63,
    pDc: ((h24 >> 6) & 63) / 31.5 - 1,
    qDc: ((h24 >> 12) & 63) / 31.5 - 1,
    lScale: ((h24 >> 18) & 31) / 31,
    hasAlpha: Boolean(hasAlpha),
    pScale: ((h16 >> 3) & 63) / 63,
    qScale: ((h16 >> 9) & 63) / 63,
    lx: Math.max(3, landscape ? longSide : h16 & 7),
    ly: Math.max(3, landscape ? h16 & 7 : longSide),
  };
}

// Decode to RGBA pixels: { width, height, rgba } at most 32 px on the longer side.
export function decodeThumbHash(text) {
  const bytes = bytesOf(text);
  const head = header(bytes);
  const aDc = head.hasAlpha ? (bytes[5] & 15) / 15 : 1;
  const aScale = head.hasAlpha ? (bytes[5] >> 4) / 15 : 0;
  const reader = nibbleReader(bytes, head.hasAlpha ? 6 : 5);
  const lAc = readChannel(reader, head.lx, head.ly, head.lScale);
  const pAc = readChannel(reader, 3, 3, head.pScale * 1.25);
  const qAc = readChannel(reader, 3, 3, head.qScale * 1.25);
  const aAc = head.hasAlpha ? readChannel(reader, 5, 5, aScale) : [];

  const ratio = head.lx / head.ly;
  const width = Math.max(1, Math.round(ratio > 1 ? 32 : 32 * ratio));
  const height = Math.max(1, Math.round(ratio > 1 ? 32 / ratio : 32));
  const rgba = new Uint8ClampedArray(width * height * 4);
  const nx = Math.max(head.lx, head.hasAlpha ? 5 : 3);
  const ny = Math.max(head.ly, head.hasAlpha ? 5 : 3);
  const fx = new Float64Array(nx);
  const fy = new Float64Array(ny);

  for (let y = 0, out = 0; y < height; y += 1) {
    for (let cy = 0; cy < ny; cy += 1) fy[cy] = Math.cos((Math.PI / height) * (y + 0.5) * cy);
    for (let x = 0; x < width; x += 1, out += 4) {
      for (let cx = 0; cx < nx; cx += 1) fx[cx] = Math.cos((Math.PI / width) * (x + 0.5) * cx);
      const l = head.lDc + sumTriangle(lAc, head.lx, head.ly, fx, fy);
      const p = head.pDc + sumSmall(pAc, 3, fx, fy);
      const q = head.qDc + sumSmall(qAc, 3, fx, fy);
      const a = aDc + (head.hasAlpha ? sumSmall(aAc, 5, fx, fy) : 0);
      // LPQ back to RGB.
      const b = l - (2 / 3) * p;
      const r = (3 * l - b + q) / 2;
      const g = r - q;
      rgba[out] = 255 * r;
      rgba[out + 1] = 255 * g;
      rgba[out + 2] = 255 * b;
      rgba[out + 3] = 255 * a;
    }
  }
  return { width, height, rgba };
}

// The luminance triangle (cx * ly < lx * (ly - cy)), without the DC term.
function sumTriangle(ac, lx, ly, fx, fy) {
  let total = 0;
  let j = 0;
  for (let cy = 0; cy < ly; cy += 1) {
    const row = fy[cy] * 2;
    for (let cx = cy === 0 ? 1 : 0; cx * ly < lx * (ly - cy); cx += 1, j += 1) total += ac[j] * fx[cx] * row;
  }
  return total;
}

// The square channels' triangle (cx < n - cy), without the DC term.
function sumSmall(ac, n, fx, fy) {
  let total = 0;
  let j = 0;
  for (let cy = 0; cy < n; cy += 1) {
    const row = fy[cy] * 2;
    for (let cx = cy === 0 ? 1 : 0; cx < n - cy; cx += 1, j += 1) total += ac[j] * fx[cx] * row;
  }
  return total;
}

// A data: URL of the decoded placeholder (PNG), cached per hash; null when it cannot be read.
export function placeholderUrl(text) {
  if (!text) return null;
  if (cache.has(text)) {
    // Refresh its place: the cache forgets the least recently used first.
    const url = cache.get(text);
    cache.delete(text);
    cache.set(text, url);
    return url;
  }
  let url = null;
  try {
    const { width, height, rgba } = decodeThumbHash(text);
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    canvas.getContext("2d").putImageData(new ImageData(rgba, width, height), 0, 0);
    url = canvas.toDataURL("image/png");
  } catch {
    // A malformed hash only costs the blur: the tile keeps its plain background.
    url = null;
  }
  cache.set(text, url);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value);
  return url;
}
