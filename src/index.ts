// The public library surface of tinystories: re-exports only; everything not listed here is internal.
// Layers, bottom up: util → data/tokenizer/engine/llm → train/sample/eval/synth/gsm/inspect → server/cli.

// util
export { UserError, check } from './util/errors.ts';
export { Rng } from './util/rng.ts';
export { Progress, formatSeconds } from './util/progress.ts';
export { writeFileAtomic, writeFileAtomicSync } from './util/atomic.ts';

// data: readers, hygiene, Hugging Face download, token shards
export {
  readDocuments, sourceSizeBytes, detectFormat, newHygieneReport, repairMojibake, normalizeStoryWhitespace,
  readInstructRecords, parseInstructRecord, formatInstructRecord, readGsm8k, parseGsm8kFinalAnswer,
  downloadHf, parseHfSpec, hfResolveUrl, cacheDir, computeStats, END_OF_TEXT,
} from './data/index.ts';
export type {
  HygieneOptions, HygieneReport, ReadOptions, DataFormat, InstructRecord, InstructKey, Gsm8kRecord, HfFileSpec,
  DownloadOptions, CorpusStats,
} from './data/index.ts';
export { tokenizeToShards, openShards, readManifest, shardTokenizerPath, readFirstDocs, splitOf, TokenSplit, type TokenShards, type ShardManifest, type TokenizeOptions } from './data/shards.ts';

// tokenizer
export {
  Tokenizer, StreamDecoder, trainBpe, loadTokenizer, loadVocabMerges, restrictToTopK, encodeMany, EncodePool,
  type TokenizerData, type TrainOptions, type TrainProgress, type TopKResult,
} from './tokenizer/index.ts';

// engine: kernel contract, reference backend, WASM SIMD backend, models
export type { Backend, Kernels } from './engine/backend.ts';
export { createRefBackend, refKernels } from './engine/ref/index.ts';
export { openBackend, type BackendKind } from './engine/open-backend.ts';
export { createWasmBackend, nodeHasRelaxedSimd } from './engine/wasm/node.ts';
export { WasmBackend, createWasmBackendOn, type WasmBackendOptions, type WasmPlatform, type WasmVariant } from './engine/wasm/backend.ts';
export { instrumentBackend, type KernelTime } from './engine/wasm/timing.ts';
export { benchMatmul, benchStep, benchSample } from './engine/wasm/bench.ts';
// WebGPU: kernels on GPU tensors, the GPU-resident trainer and decoder, the synchronous bridge, adapter detection
export { GpuKernels, type GpuTensor } from './engine/webgpu/kernels.ts';
export { GpuModel, type GpuStepOptions, type GpuStepResult } from './engine/webgpu/trainer.ts';
export { GpuDecoder } from './engine/webgpu/decode.ts';
export { createWebGpuSyncBackend, type WebGpuSyncBackend } from './engine/webgpu/sync.ts';
export { acquireDevice, summarizeAdapter, adapterLabel, type GpuAdapterSummary } from './engine/webgpu/device.ts';
export { nodeDevice } from './engine/webgpu/node.ts';
export { Model, countParams, type ModelOptions, type AdamWOptions, type TensorView } from './engine/model.ts';
export { InferenceSession, type InferenceOptions } from './engine/inference.ts';
export { PRESETS, presetConfig, resolveConfig, llamaHiddenDim, type ModelConfig, type GptNeoConfig, type LlamaConfig, type ResolvedConfig } from './engine/config.ts';
export { paramTable, type ParamSpec } from './engine/layout.ts';
export { exportHfTensors, importHfTensors, type HfTensor } from './engine/hf.ts';
export { gradcheckKernels, gradcheckModel, createF64RefBackend } from './engine/gradcheck.ts';

// checkpoints, training, sampling
export { readSafetensors, writeSafetensors, encodeSafetensors, decodeSafetensors, type NamedTensor } from './checkpoint/safetensors.ts';
export { toHfConfig, fromHfConfig, readModelConfigFile } from './checkpoint/hf-config.ts';
export { loadModelFiles, loadLatestCheckpoint } from './checkpoint/run-dir.ts';

// interop: llama2.c checkpoints and tokenizer.bin, GGUF (pure readers/writers over Uint8Array)
export {
  readLlama2cModel, writeLlama2c, isLlama2cCheckpoint, readLlama2cTokenizer, writeLlama2cTokenizer, readGguf, writeGguf, isGguf,
  type ImportedModel, type ExportInput, type GgufType,
} from './interop/index.ts';
// interop: model sources for --run (run dirs, HF folders, hf: model repos, pytorch_model.bin, llama2.c, GGUF) and convert
export { readModelSource, fetchModelSource, readTokenizerFile, type ModelSource, type SourceOptions } from './interop/resolve.ts';
export { downloadHfModel, parseHfModelSpec, isHfModelSpec, type HfModelSpec } from './interop/hf-model.ts';
export { readTorchStateDict, restrictedUnpickle, type TorchReadOptions } from './interop/torch-pickle.ts';
export { readZip, writeZip, type ZipEntry } from './util/zip.ts';
export { convertToRun, type ConvertResult } from './interop/convert.ts';
export { train, TrainingDiverged, type TrainIO, type TrainResult } from './train/trainer.ts';
export { readTrainConfig, type TrainConfigFile } from './train/run-config.ts';
export { Batch } from './train/batch.ts';
export { TrainSettingsSchema, TRAIN_DEFAULTS, type TrainSettings } from './train/settings.ts';
export { learningRate } from './train/schedule.ts';
export { bitsPerByte, tokenByteLengths } from './train/bpb.ts';
export { chooseRecipe, type Recipe, type RecipeEntry } from './train/recipe.ts';
export { RECIPE_TABLE } from './train/recipe-table.ts';
export { generate, generateText, type GeneratedToken, type GenerateOptions } from './sample/generate.ts';
export { chooseToken, applyRepetitionPenalty, applyTemperature, applyTopK, applyTopP, softmax, type SamplingSettings } from './sample/processors.ts';
export { loadRunModel } from './sample/load.ts';

// LLM providers and synthetic data
export { createProvider, createBatchClient, OpenAIProvider, AnthropicProvider, Scheduler, TokenBucket, PriceTable, DEFAULT_PRICES, LlmError, OpenAIBatchClient, AnthropicBatchClient } from './llm/index.ts';
export type { ChatProvider, ChatRequest, ChatResponse, ChatMessage, Usage, CallOptions, SchedulerOptions, ModelPrice, BatchClient, ProviderConfig } from './llm/index.ts';
export { generate as generateStories, recordId, storyRequestId, promptFor, type GenerateOptions as GenerateStoriesOptions } from './synth/generate.ts';
export { translate, readStoryRecords } from './synth/translate.ts';
export { TEMPLATES, renderPrompt, resolveTemplate, samplePromptSpec } from './synth/prompts.ts';
export { FEATURES, FEATURE_PHRASES, uniformFeatures, featureDistributionFromFile } from './synth/features.ts';
export { checkStory, cleanStory, buildVocabulary, languageMatches, oovShare } from './synth/filters.ts';
export { NearDuplicateIndex } from './synth/dedup.ts';
export { storiesText, instructText } from './synth/export.ts';
export { reportForDir, formatReport } from './synth/report.ts';
export { wordListsFor } from './synth/words.ts';
export { builtinWordLists, loadWordListsFile, parseWordLists } from './synth/words/index.ts';

// evaluation and reports
export { runGptEval, GPT_EVAL_DEFAULTS, type GptEvalConfig, type GptEvalReport, type JudgeConfig } from './eval/gpt-eval.ts';
export { runMetrics, METRICS_DEFAULTS, type MetricsConfig, type MetricsReport } from './eval/metrics.ts';
export { runInstructEval, requiredWordsPresent, instructModelPrompt, type InstructEvalReport } from './eval/instruct.ts';
export { compareReports, readGptReport } from './eval/compare.ts';
export { judgeCompletion, type JudgeSettings, type JudgeOutcome } from './eval/judge.ts';
export { JudgeCache, requestKey } from './eval/cache.ts';
export { parseGrades, parseJsonGrades, DIMENSIONS, AGE_GROUPS, type Grades } from './eval/grades.ts';
export { parseBeginnings, loadBeginnings, JUDGE_TURN1, JUDGE_TURN2, DEFAULT_BEGINNINGS, BUILTIN_BEGINNINGS, HUB_BEGINNINGS } from './eval/prompts.ts';
export { aggregateScores, emergenceSeries, CI_METHOD, type ModelScores } from './eval/aggregate.ts';
export { summarize, bootstrapCi, studentTQuantile } from './eval/stats.ts';
export { scoreStream, modelScorer, type NextTokenScorer, type LmMetrics } from './eval/lm-metrics.ts';
export { distinctN, vocabAdherence, childVocabulary } from './eval/text-metrics.ts';
export { NgramIndex, rougePrecision, closestStory } from './eval/ngram-index.ts';
export * as report from './report/html.ts';
export * as charts from './report/svg.ts';

// TinyGSM and the Python sandbox
export * as gsm from './gsm/index.ts';
export { renderTinyGsm, type TinyGsmRecord } from './gsm/index.ts';
export { SandboxPool, normalizeValue, parseNumericString, answersMatch, type ExecResult, type FailureKind, type SandboxOptions } from './sandbox/index.ts';

// interpretability and the dashboard server
export { attentionForText, headStatsOver, HeadStatsAccumulator, labelHead, LABEL_RULE, scanNeurons, summarizeNeurons, NeuronHeaps, inspectAttention, inspectNeurons, saveInspectReport, readInspectReport, classifyWord, type AttentionMaps, type AttentionReport, type HeadStats, type HeadLabel, type NeuronReport, type NeuronSummary, type TopActivation, type WordClass } from './inspect/index.ts';
export { startServer, type ServerOptions, type RunningServer } from './server/index.ts';
