// The generation run's report.json shape (`tinystories generate`), with no Node imports: report.ts builds it, the
// dashboard page (web/pages/data.ts) reads it.

/** report.json of a generation run. */
export interface RunReport {
  fingerprint: Record<string, unknown>;
  target: number;
  accepted: number;
  rejectedSlots: number;
  slotRejections: Record<string, number>;
  /** Every story attempt's outcome: accepted, or the filter that removed it. */
  attempts: Record<string, number>;
  /** Stories whose assistant chatter (title, "Here is a story") was stripped. */
  metaStripped: number;
  requests: { done: number; batch: number; inputTokens: number; outputTokens: number; costUSD: number; unpriced: number };
  /** Requests sent but never journaled (a crash while in flight): they may have been paid for without a record. */
  inFlightAtCrash: number;
  features: Record<string, number>;
  words: { distinctVerbs: number; distinctNouns: number; distinctAdjectives: number; listSizes?: Record<string, number> };
}
