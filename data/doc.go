// Package data reads training and evaluation examples (JSONL), turns them into token ids with
// labels, packs, splits and batches them. It knows nothing of models: tokenisation goes through
// the Encoder interface and chat templates come in as text (hf/tokconfig reads them).
//
// # Line shapes
//
// Each non-blank line of a JSONL file is one JSON object of one of these shapes; keys not named
// here are ignored, so exported rows with ids or metadata read as they are:
//
//   - {"text": "..."}: plain text, tokenised with the tokenizer's special tokens (BOS where the
//     tokenizer adds one); every token is learned. Lines whose text is "" are skipped (counted in
//     a warning). For training they are usually packed (Pack, Config.Pack); unpacked, each line is
//     one example, truncated when batched (evaluation and calibration read them so).
//   - {"prompt": "...", "completion": "..."}: prompt+completion is tokenised as one text, so the
//     ids are exactly those of the concatenation, and the tokenizer's EOS is appended (when it has
//     one and has not added it). The tokens that lie wholly in the prompt get label -100; learned
//     are all tokens from the first that holds any of the completion — a token that the tokenizer
//     merges across the boundary is learned — through EOS. An empty completion is an error; the
//     prompt may be empty.
//   - {"messages": [{"role": "...", "content": "..."}, ...], "tools": [...]}: rendered with the
//     model's chat template (ChatTemplate; tools optional, other message keys such as tool_calls go
//     to the template as they are) and tokenised without added special tokens, as Hugging Face's
//     apply_chat_template does. Only assistant turns are learned: the template's
//     {% generation %} blocks when it has them, otherwise the spans found by rendering prefixes of
//     the conversation (see ChatTemplate.AssistantSpans); a token is learned when it holds any
//     byte of such a span. A model without a chat template gets FallbackTemplate, and Options.Warn
//     says so once.
//   - {"input_ids": [...], "labels": [...]}: pre-tokenised; labels are optional (nil = the ids),
//     -100 marks an ignored position.
//
// One file may mix the shapes: every line is its own example. When packing, the "text" lines are
// packed together into chunks and the other lines stay one example each. Errors name the file and
// the line (invalid JSON, wrong types, an unknown or ambiguous shape, an empty completion, a
// conversation without an assistant turn, a template error).
//
// # Training data
//
// Load reads a training file, holds out a validation part (Split: a fraction or a count, drawn
// with a seeded PCG) or reads a separate validation file, and packs. A Loader then yields batches
// epoch after epoch, each epoch shuffled from (seed, epoch); its Position can be saved and Seek
// resumes a killed run with exactly the batches it would have had.
package data
