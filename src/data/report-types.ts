// The corpus statistics shapes (`tinystories data stats`, the dashboard's /api/data/stats) with no Node imports:
// hygiene.ts and stats.ts compute them, the dashboard page (web/pages/data.ts) reads them.

/** What the cleaning did; pass one in `readDocuments(src, { report })` and read it after the loop. */
export interface HygieneReport {
  /** Documents yielded (after dropping empties and duplicates). */
  documents: number;
  /** Documents that NFC normalization changed. */
  nfcChanged: number;
  /** Mojibake sequences repaired (each restores one character). */
  mojibakeRepairs: number;
  /** Exact duplicates dropped. */
  duplicatesRemoved: number;
  /** Documents that were empty after normalization and were dropped. */
  emptyDropped: number;
  /** Bytes of source read (compressed bytes for .gz). */
  bytesRead: number;
  /** Characters of raw text seen (before cleaning). */
  rawChars: number;
  /** U+FFFD characters in the raw text: invalid UTF-8 sequences replaced when decoding (or U+FFFD in the source). */
  replacedChars: number;
  /** Control characters other than tab, newline, form feed and carriage return (NUL, ESC, ...): binary data. */
  controlChars: number;
}

/** The statistics of a story source after hygiene. */
export interface CorpusStats {
  source: string;
  stories: number;
  words: number;
  /** Unicode code points. */
  characters: number;
  /** UTF-8 bytes of the cleaned texts. */
  utf8Bytes: number;
  /** Words per story. */
  storyWords: { mean: number; min: number; p10: number; p50: number; p90: number; p99: number; max: number };
  hygiene: HygieneReport;
  /** Present when a tokenizer was given. */
  tokens?: { total: number; perStory: number; charactersPerToken: number };
  seconds: number;
}
