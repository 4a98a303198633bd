// Public surface of the tokenizer module: byte-level BPE training, encoding/decoding, tokenizer.json I/O, top-K remap.
export { Tokenizer, StreamDecoder, type TokenizerData, type SpecialToken, type VocabRemap } from './tokenizer.ts';
export { trainBpe, trainFromCounts, countPretokens, type TrainOptions, type TrainProgress } from './train.ts';
export { loadTokenizer, loadVocabMerges, fromHfJson, toHfJson, REMAP_FORMAT } from './hf-json.ts';
export { restrictToTopK, type TopKOptions, type TopKResult } from './topk.ts';
export { EncodePool, encodeMany, type EncodedBatch } from './pool.ts';
export { pretokenize, splitPretokens, bytesToUnicode, GPT2_PATTERN } from './pretokenize.ts';
export { type SentencePieceInfo } from './sentencepiece.ts';
