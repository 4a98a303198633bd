// ZIP archives on Uint8Array, no Node imports: the one home of the format. The reader serves PyTorch's
// pytorch_model.bin (PyTorchStreamWriter/miniz stores every entry uncompressed) and the run zips the browser site
// exports; the writer makes those run zips (config.json + model.safetensors + tokenizer.json).
//
// Layout (PKWARE APPNOTE 6.3): per file a local header (0x04034b50) + name + data, then the central directory
// (0x02014b50 per file), [zip64 end record + locator], and the end record (0x06054b50). Stored entries (method 0)
// only: a deflated entry is refused with a clear error. The reader understands ZIP64; the writer writes UTF-8 names
// (flag bit 11) and CRC-32s, no ZIP64 (each file and the whole archive stay under 4 GiB).
import { UserError } from './errors.ts';

/** One archive member: its name and the bytes it holds (a view into the archive, not a copy). */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Whether the bytes start like a ZIP archive (a local file header). */
export function isZip(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/**
 * Reads the entries of a ZIP archive (by name, in central-directory order). `where` names the file in errors.
 * @example const entries = readZip(bytes, 'pytorch_model.bin'); entries.get('archive/data.pkl')
 */
export function readZip(buf: Uint8Array, where: string): Map<string, ZipEntry> {
  const bad = (msg: string) => new UserError(`${where}: not a readable ZIP archive (${msg})`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.byteLength;
  let eocd = -1;
  for (let i = n - 22; i >= Math.max(0, n - 22 - 0xffff); i--) {
    if (dv.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record: truncated?');
  let count = dv.getUint16(eocd + 10, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || dv.getUint32(loc, true) !== ZIP64_LOCATOR) throw bad('ZIP64 locator missing');
    const rec = Number(dv.getBigUint64(loc + 8, true));
    if (rec + 56 > n || dv.getUint32(rec, true) !== ZIP64_EOCD) throw bad('ZIP64 end record missing');
    count = Number(dv.getBigUint64(rec + 32, true));
    cdOffset = Number(dv.getBigUint64(rec + 48, true));
  }
  const out = new Map<string, ZipEntry>();
  let p = cdOffset;
  const decoder = new TextDecoder();
  for (let e = 0; e < count; e++) {
    if (p + 46 > n || dv.getUint32(p, true) !== CENTRAL) throw bad(`central directory entry ${e} is damaged`);
    const method = dv.getUint16(p + 10, true);
    let compSize = dv.getUint32(p + 20, true);
    let size = dv.getUint32(p + 24, true);
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    let local = dv.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen > n) throw bad(`central directory entry ${e} runs past the end`);
    const name = decoder.decode(buf.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extra field: the 64-bit values of whichever fields hold 0xffffffff, in this order
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = dv.getUint16(x, true);
      const len = dv.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        if (size === 0xffffffff) (size = Number(dv.getBigUint64(q, true))), (q += 8);
        if (compSize === 0xffffffff) (compSize = Number(dv.getBigUint64(q, true))), (q += 8);
        if (local === 0xffffffff) local = Number(dv.getBigUint64(q, true));
      }
      x += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (method !== 0) throw new UserError(`${where}: ZIP entry ${name} is compressed (method ${method}); only stored entries (as PyTorch writes them) are supported`);
    if (local + 30 > n || dv.getUint32(local, true) !== LOCAL) throw bad(`local header of ${name} is missing: truncated?`);
    const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
    if (start + size > n) throw bad(`entry ${name} runs past the end of the file: truncated?`);
    out.set(name, { name, data: buf.subarray(start, start + size) });
  }
  return out;
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, the zip checksum) of bytes. */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * Writes a stored zip of `entries` (names with forward slashes, no leading slash).
 * @example const zip = writeZip([{ name: 'config.json', data: new TextEncoder().encode('{}') }]);
 */
export function writeZip(entries: ZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const names = entries.map((e) => enc.encode(e.name));
  const crcs = entries.map((e) => crc32(e.data));
  let size = 22;
  for (let i = 0; i < entries.length; i++) size += 30 + names[i]!.length + entries[i]!.data.length + 46 + names[i]!.length;
  if (size > 0xffffffff || entries.length > 0xffff) throw new UserError('zip: the archive would exceed 4 GiB or 65535 files (zip64 is not supported)');
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  const offsets: number[] = [];
  // DOS date 1980-01-01 00:00 keeps the archive a pure function of its entries
  const DOS_DATE = (0 << 9) | (1 << 5) | 1;
  for (let i = 0; i < entries.length; i++) {
    offsets.push(o);
    dv.setUint32(o, 0x04034b50, true);
    dv.setUint16(o + 4, 20, true); // version needed: 2.0
    dv.setUint16(o + 6, 0x0800, true); // UTF-8 names
    dv.setUint16(o + 8, 0, true); // stored
    dv.setUint16(o + 10, 0, true);
    dv.setUint16(o + 12, DOS_DATE, true);
    dv.setUint32(o + 14, crcs[i]!, true);
    dv.setUint32(o + 18, entries[i]!.data.length, true);
    dv.setUint32(o + 22, entries[i]!.data.length, true);
    dv.setUint16(o + 26, names[i]!.length, true);
    dv.setUint16(o + 28, 0, true);
    out.set(names[i]!, o + 30);
    o += 30 + names[i]!.length;
    out.set(entries[i]!.data, o);
    o += entries[i]!.data.length;
  }
  const cdStart = o;
  for (let i = 0; i < entries.length; i++) {
    dv.setUint32(o, 0x02014b50, true);
    dv.setUint16(o + 4, 20, true); // made by
    dv.setUint16(o + 6, 20, true);
    dv.setUint16(o + 8, 0x0800, true);
    dv.setUint16(o + 10, 0, true);
    dv.setUint16(o + 12, 0, true);
    dv.setUint16(o + 14, DOS_DATE, true);
    dv.setUint32(o + 16, crcs[i]!, true);
    dv.setUint32(o + 20, entries[i]!.data.length, true);
    dv.setUint32(o + 24, entries[i]!.data.length, true);
    dv.setUint16(o + 28, names[i]!.length, true);
    // extra, comment, disk, internal attrs: 0; external attrs 0; then the local header's offset
    dv.setUint32(o + 42, offsets[i]!, true);
    out.set(names[i]!, o + 46);
    o += 46 + names[i]!.length;
  }
  dv.setUint32(o, 0x06054b50, true);
  dv.setUint16(o + 8, entries.length, true);
  dv.setUint16(o + 10, entries.length, true);
  dv.setUint32(o + 12, o - cdStart, true);
  dv.setUint32(o + 16, cdStart, true);
  return out;
}
