// A minimal parquet writer for test fixtures: string columns, PLAIN encoding, uncompressed or GZIP, several row groups.
// Written from the parquet-format spec (thrift compact protocol) so tests do not depend on a writer library.
import { gzipSync } from 'node:zlib';

class Compact {
  bytes: number[] = [];
  private last: number[] = [0];
  varint(n: bigint | number): void {
    let v = BigInt(n);
    while (v >= 0x80n) {
      this.bytes.push(Number((v & 0x7fn) | 0x80n));
      v >>= 7n;
    }
    this.bytes.push(Number(v));
  }
  zigzag(n: number | bigint): void {
    const v = BigInt(n);
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }
  field(id: number, type: number): void {
    const delta = id - this.last[this.last.length - 1]!;
    if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
    else {
      this.bytes.push(type);
      this.zigzag(id);
    }
    this.last[this.last.length - 1] = id;
  }
  i32(id: number, v: number): void {
    this.field(id, 5);
    this.zigzag(v);
  }
  i64(id: number, v: number): void {
    this.field(id, 6);
    this.zigzag(v);
  }
  str(id: number, s: string): void {
    this.field(id, 8);
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    for (const x of b) this.bytes.push(x);
  }
  beginStruct(id?: number): void {
    if (id !== undefined) this.field(id, 12);
    this.last.push(0);
  }
  endStruct(): void {
    this.bytes.push(0);
    this.last.pop();
  }
  list(id: number, elemType: number, size: number): void {
    this.field(id, 9);
    if (size < 15) this.bytes.push((size << 4) | elemType);
    else {
      this.bytes.push(0xf0 | elemType);
      this.varint(size);
    }
  }
  listI32(id: number, values: number[]): void {
    this.list(id, 5, values.length);
    for (const v of values) this.zigzag(v);
  }
  listStr(id: number, values: string[]): void {
    this.list(id, 8, values.length);
    for (const s of values) {
      const b = Buffer.from(s, 'utf8');
      this.varint(b.length);
      for (const x of b) this.bytes.push(x);
    }
  }
}

/**
 * Writes a parquet file with REQUIRED UTF8 string columns. `rowGroups` splits the rows into groups of that size.
 * `codec`: 'UNCOMPRESSED' or 'GZIP'.
 */
export function writeParquet(columns: Record<string, string[]>, opts: { rowGroupSize?: number; codec?: 'UNCOMPRESSED' | 'GZIP' } = {}): Buffer {
  const names = Object.keys(columns);
  const rows = columns[names[0]!]!.length;
  const groupSize = opts.rowGroupSize ?? rows;
  const codec = opts.codec === 'GZIP' ? 2 : 0;
  const parts: Buffer[] = [Buffer.from('PAR1')];
  let offset = 4;
  const groups: Array<{ rows: number; chunks: Array<{ name: string; offset: number; size: number; raw: number }> }> = [];
  for (let g = 0; g < rows; g += groupSize) {
    const n = Math.min(groupSize, rows - g);
    const chunks: (typeof groups)[number]['chunks'] = [];
    for (const name of names) {
      const values = columns[name]!.slice(g, g + n);
      const plain = Buffer.concat(
        values.flatMap((v) => {
          const b = Buffer.from(v, 'utf8');
          const len = Buffer.alloc(4);
          len.writeUInt32LE(b.length);
          return [len, b];
        }),
      );
      const body = codec === 2 ? gzipSync(plain) : plain;
      const h = new Compact();
      h.beginStruct();
      h.i32(1, 0); // DATA_PAGE
      h.i32(2, plain.length);
      h.i32(3, body.length);
      h.beginStruct(5); // DataPageHeader
      h.i32(1, n);
      h.i32(2, 0); // PLAIN
      h.i32(3, 3); // RLE
      h.i32(4, 3);
      h.endStruct();
      h.endStruct();
      const header = Buffer.from(h.bytes);
      chunks.push({ name, offset, size: header.length + body.length, raw: header.length + plain.length });
      parts.push(header, body);
      offset += header.length + body.length;
    }
    groups.push({ rows: n, chunks });
  }
  const m = new Compact();
  m.beginStruct();
  m.i32(1, 1); // version
  m.list(2, 12, names.length + 1); // schema
  m.beginStruct();
  m.str(4, 'schema');
  m.i32(5, names.length);
  m.endStruct();
  for (const name of names) {
    m.beginStruct();
    m.i32(1, 6); // BYTE_ARRAY
    m.i32(3, 0); // REQUIRED
    m.str(4, name);
    m.i32(6, 0); // UTF8
    m.endStruct();
  }
  m.i64(3, rows);
  m.list(4, 12, groups.length);
  for (const g of groups) {
    m.beginStruct();
    m.list(1, 12, g.chunks.length);
    for (const c of g.chunks) {
      m.beginStruct(); // ColumnChunk
      m.i64(2, c.offset);
      m.beginStruct(3); // ColumnMetaData
      m.i32(1, 6);
      m.listI32(2, [0, 3]);
      m.listStr(3, [c.name]);
      m.i32(4, codec);
      m.i64(5, g.rows);
      m.i64(6, c.raw);
      m.i64(7, c.size);
      m.i64(9, c.offset);
      m.endStruct();
      m.endStruct();
    }
    m.i64(2, g.chunks.reduce((s, c) => s + c.raw, 0));
    m.i64(3, g.rows);
    m.endStruct();
  }
  m.endStruct();
  const footer = Buffer.from(m.bytes);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(footer.length);
  parts.push(footer, len, Buffer.from('PAR1'));
  return Buffer.concat(parts);
}
