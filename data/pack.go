package data

import "errors"

// Pack packs the KindText examples (documents) into chunks of maxLen tokens for training: each
// document's ids (with the BOS its tokenizer added, if any) are followed by eos when eos ≥ 0 and
// the document does not already end with it, the documents are concatenated in order, and the
// stream is cut every maxLen tokens. The last chunk, shorter than maxLen, is kept (batches pad it),
// so no token is lost. Chunks have nil labels (every token is learned); attention is not masked at
// document boundaries inside a chunk, as with Hugging Face's group_texts.
//
// Other examples pass through unchanged (they are truncated when batched), and each chunk takes the
// place in the order where it is completed.
func Pack(exs []Example, maxLen int, eos int32) ([]Example, error) {
	if maxLen <= 0 {
		return nil, errors.New("pack: the chunk length must be positive")
	}
	var out []Example
	var buf []int32
	for _, ex := range exs {
		if ex.Kind != KindText {
			out = append(out, ex)
			continue
		}
		buf = append(buf, ex.IDs...)
		if eos >= 0 && (len(ex.IDs) == 0 || ex.IDs[len(ex.IDs)-1] != eos) {
			buf = append(buf, eos)
		}
		for len(buf) >= maxLen {
			out = append(out, Example{IDs: append([]int32(nil), buf[:maxLen]...), Kind: KindText})
			buf = buf[maxLen:]
		}
	}
	if len(buf) > 0 {
		out = append(out, Example{IDs: append([]int32(nil), buf...), Kind: KindText})
	}
	return out, nil
}
