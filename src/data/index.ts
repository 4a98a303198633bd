// Data I/O for TinyStories: story sources of every format as clean text streams, typed Instruct and GSM8K records, hub downloads.
export {
  readDocuments,
  sourceSizeBytes,
  detectFormat,
  resolveSource,
  listSupportedFiles,
  isSupportedFile,
  BUILTIN_CORPUS_DIR,
  type DataFormat,
  type ReadOptions,
} from './read.ts';
export {
  newHygieneReport,
  normalizeStoryWhitespace,
  repairMojibake,
  Hygiene,
  HashSet64,
  type HygieneOptions,
  type HygieneReport,
} from './hygiene.ts';
export {
  END_OF_TEXT,
  INSTRUCT_KEYS,
  parseInstructRecord,
  formatInstructRecord,
  readInstructRecords,
  type InstructKey,
  type InstructLayout,
  type InstructRecord,
} from './instruct.ts';
export {
  readGsm8k,
  parseGsm8kFinalAnswer,
  toGsm8kRecord,
  gsm8kText,
  formatGsm8kRecord,
  type Gsm8kRecord,
} from './gsm8k.ts';
export {
  downloadHf,
  parseHfSpec,
  hfResolveUrl,
  hfEndpoint,
  HfNotFoundError,
  hfCachePath,
  cacheDir,
  isHfSpec,
  type HfFileSpec,
  type DownloadOptions,
} from './hf.ts';
export { readJsonRecords } from './json-stream.ts';
export { readTextChunks, splitStream } from './text-stream.ts';
export { computeStats, formatStats, countWordsAndChars, type CorpusStats, type TokenEncoder } from './stats.ts';
