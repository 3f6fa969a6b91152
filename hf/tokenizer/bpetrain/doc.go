// Package bpetrain trains byte-level BPE tokenizers and writes them as Hugging Face tokenizer.json
// files (with tokenizer_config.json and special_tokens_map.json) that hf/tokenizer, Hugging Face's
// tokenizers and transformers' AutoTokenizer load and encode identically.
//
// # Training
//
// It is Hugging Face's BpeTrainer with a ByteLevel pre-tokenizer (add_prefix_space false, use_regex
// true) and the 256-character byte-level initial alphabet, reproduced merge for merge:
//
//   - CountTexts and CountJSONL cut every text with GPT-2's regex (SplitWords) and count the words,
//     in parallel. Each text is cut on its own, special-token markers in it included.
//   - Ids: the special tokens first (0, 1, ...), then the 256 byte-level characters in code-point
//     order ('!' .. '~', '¡' .. '¬', '®' .. 'ÿ', then U+0100 .. U+0143 for the other bytes), then each
//     merged token when it is first made.
//   - Merge loop: every adjacent pair's count (over the distinct words, times their counts) is kept
//     in a table, and a priority queue holds the pairs with the words they occur in. The pair merged
//     next has the highest count; among equal counts the smallest (left id, right id) wins, which is
//     Hugging Face's ordering, so the merges are deterministic and equal to Hugging Face's. An entry
//     whose count went stale goes back into the queue with its current count. Merging touches only
//     the listed words and updates the counts of the pairs on either side of each merge; new pairs
//     enter the queue with the words that formed them. Training stops when the vocabulary reaches
//     Options.VocabSize, or when the best pair occurs fewer than Options.MinFrequency times or not
//     at all.
//   - As in Hugging Face's bookkeeping, a merged pair's own count is not reset, and a merge whose
//     result exists already (a special token's text, say) adds a merge but no token; a pair merged
//     twice would keep its later rank.
//
// # Files
//
// The special tokens are EndOfText ("<|endoftext|>": BOS, EOS and padding, as in GPT-2) and,
// optionally, PadToken ("<|pad|>") as a padding token of its own, useful where padded positions
// are masked from the loss by id and EOS must still be learned. The post-processor is ByteLevel,
// which adds no tokens: Hugging Face's tokenizer(text), AutoTokenizer's and eva's
// Encode(text, true) all return the text's ids alone, and eva's packing appends EOS after each
// document itself. tokenizer_config.json still names bos_token, eos_token and pad_token, sets
// clean_up_tokenization_spaces false (decoding returns the text exactly) and tokenizer_class
// PreTrainedTokenizerFast. Files are written atomically (internal/atomicdir).
package bpetrain
