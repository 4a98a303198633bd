// Parquet story reading with hyparquet: one text column, one row group at a time, so memory stays at one row group.
import { UserError } from '../util/errors.ts';

/**
 * Yields the `text` column (or `story` if there is no `text`) of a parquet file row by row, reading one row group
 * at a time. `onBytes(n)` gets each row group's compressed size as it is read (all columns, so the total reaches the
 * file size).
 */
export async function* readParquetTexts(path: string, onBytes?: (n: number) => void): AsyncGenerator<string> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead } = await import('hyparquet/src/node.js');
  const { compressors } = await import('hyparquet-compressors');
  const file = await asyncBufferFromFile(path);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new UserError(`${path}: not a readable parquet file (${(e as Error).message})`);
  }
  const names = metadata.schema.slice(1).map((s) => s.name);
  const column = names.includes('text') ? 'text' : names.includes('story') ? 'story' : undefined;
  if (!column) throw new UserError(`${path}: parquet file has no "text" or "story" column (columns: ${names.join(', ')})`);
  let rowStart = 0;
  let counted = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: unknown[][] = [];
    await parquetRead({
      file,
      metadata,
      compressors,
      columns: [column],
      rowStart,
      rowEnd,
      onComplete: (r: unknown[][]) => {
        rows = r;
      },
    });
    const groupBytes = group.columns.reduce((sum, c) => sum + Number(c.meta_data?.total_compressed_size ?? 0), 0);
    counted += groupBytes;
    onBytes?.(groupBytes);
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i]![0];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string') throw new UserError(`${path}: row ${rowStart + i} column "${column}" is not a string`);
      yield v;
    }
    rowStart = rowEnd;
  }
  // the footer and headers: progress ends at the file size
  if (file.byteLength > counted) onBytes?.(file.byteLength - counted);
}
