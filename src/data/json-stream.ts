// Streaming JSON records: JSONL, concatenated JSON objects, or one top-level array of objects, parsed one at a time.
import { UserError } from '../util/errors.ts';

/**
 * Yields each record of a JSON text stream without holding the whole text: the records are the top-level
 * objects (JSONL, or objects separated by any whitespace) or, when the text is one top-level array, its elements
 * (the HF `TinyStories_all_data` files are arrays of objects). `where` names the source in errors.
 */
export async function* readJsonRecords(chunks: AsyncIterable<string>, where: string): AsyncGenerator<unknown> {
  let buf = '';
  let pos = 0; // scan position in buf
  let start = -1; // start of the current record in buf, or -1 between records
  let depth = 0;
  let inString = false;
  let decided = false; // whether the first significant character was seen
  let arrayMode = false; // the text is one top-level array whose elements are the records
  let arrayClosed = false;
  let index = 0;
  let line = 1; // line number at `pos` (newlines inside strings are escaped in valid JSON, so the scan sees them all)
  let startLine = 1; // line on which the current record starts

  const parse = (text: string): unknown => {
    index++;
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new UserError(`${where}: record ${index} is not valid JSON; it starts on line ${startLine} (${(e as Error).message})`);
    }
  };

  for await (const chunk of chunks) {
    if (start >= 0) {
      buf = buf.slice(start) + chunk;
      pos -= start;
      start = 0;
    } else {
      buf = buf.slice(pos) + chunk;
      pos = 0;
    }
    const n = buf.length;
    const ready: unknown[] = [];
    while (pos < n) {
      if (inString) {
        const q = buf.indexOf('"', pos);
        if (q < 0) {
          pos = n;
          break;
        }
        let backslashes = 0;
        for (let k = q - 1; buf.charCodeAt(k) === 92; k--) backslashes++;
        pos = q + 1;
        if (backslashes % 2 === 0) inString = false;
        continue;
      }
      const c = buf.charCodeAt(pos);
      if (start < 0) {
        if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff) {
          if (c === 10) line++;
          pos++;
          continue;
        }
        if (!decided) {
          decided = true;
          if (c === 91 /* [ */) {
            arrayMode = true;
            pos++;
            continue;
          }
        }
        if (arrayClosed) throw new UserError(`${where}: unexpected text after the top-level JSON array`);
        if (arrayMode && c === 44 /* , */) {
          pos++;
          continue;
        }
        if (arrayMode && c === 93 /* ] */) {
          arrayClosed = true;
          pos++;
          continue;
        }
        if (c !== 123 /* { */ && c !== 91) {
          throw new UserError(`${where}: record ${index + 1} should be a JSON object, found ${JSON.stringify(buf.slice(pos, pos + 20))} on line ${line}`);
        }
        start = pos;
        startLine = line;
        depth = 0;
      }
      if (c === 34) inString = true;
      else if (c === 10) line++;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) {
          ready.push(parse(buf.slice(start, pos + 1)));
          start = -1;
        }
      }
      pos++;
    }
    for (const v of ready) yield v;
  }
  if (start >= 0) {
    throw new UserError(
      `${where}: the JSON text ends inside record ${index + 1}, which starts on line ${startLine} (a broken line, or a truncated file?)`,
    );
  }
  if (arrayMode && !arrayClosed) throw new UserError(`${where}: the top-level JSON array is not closed (truncated file?)`);
}
