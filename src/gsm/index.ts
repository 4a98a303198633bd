// TinyGSM: problem synthesis, the TinyGSM record form, filtering and decontamination, evaluation by execution, verifier.
export { ENTRY_FUNCTION, functionHeader, toTinyGsmFunction, renderTinyGsm, cutCompletion, programFromCompletion, type TinyGsmRecord } from './tinygsm.ts';
export { parseProblemBlocks, parseSingleQuestion, parseSingleProgram, END_OF_QUESTION, END_OF_PROGRAM, type ParsedProblem, type ParseResult } from './parse.ts';
export { similarProblemsPrompt, irrelevantContextPrompt, programPrompt, PROBLEMS_PER_CALL } from './prompts.ts';
export { generateGsm, estimateGsmCost, SlotPlanner, type GsmGenerateOptions, type Seed } from './generate.ts';
export { NgramIndex, normalizeQuestion, type DecontamCounts, type Overlap } from './decontam.ts';
export { filterRecords, buildTestIndex, hasNumbers, type FilterOptions, type FilterReport, type FilterReason } from './filter.ts';
export { scoreCompletion, passAtK, majorityAnswer, summarize, finishOutcome, reportHtml, type EvalSummary, type ProblemOutcome, type ScoredSample } from './harness.ts';
export { evalGsm, sampleCompletion, type GsmEvalOptions } from './eval.ts';
export { Verifier, trainVerifier, verifierLossAndGrad, type VerifierHead, type VerifierExample } from './verifier.ts';
export { runVerifierTraining, collectSamples, type LabeledSample, type VerifierRunOptions } from './verifier-train.ts';
