package tokenizer

// postProcessor adds special tokens around an encoded sequence (Encode with addSpecial).
type postProcessor interface {
	process(ids []int32) []int32
}

// postProcessorSeq applies post-processors in order.
type postProcessorSeq []postProcessor

func (seq postProcessorSeq) process(ids []int32) []int32 {
	for _, p := range seq {
		ids = p.process(ids)
	}
	return ids
}

// noopPost is a post-processor that adds no tokens (ByteLevel only adjusts offsets, which Encode
// does not report).
type noopPost struct{}

func (noopPost) process(ids []int32) []int32 { return ids }

// templatePost is TemplateProcessing's single-sequence template: special-token ids and the
// sequence itself (a nil entry) in order.
type templatePost struct {
	pieces [][]int32 // nil marks the sequence
}

func (t templatePost) process(ids []int32) []int32 {
	n := 0
	for _, p := range t.pieces {
		n += len(p)
	}
	out := make([]int32, 0, n+len(ids))
	for _, p := range t.pieces {
		if p == nil {
			out = append(out, ids...)
		} else {
			out = append(out, p...)
		}
	}
	return out
}

// wrapPost puts one token before and one after the sequence (RobertaProcessing, BertProcessing).
type wrapPost struct{ first, last int32 }

func (w wrapPost) process(ids []int32) []int32 {
	out := make([]int32, 0, len(ids)+2)
	out = append(out, w.first)
	out = append(out, ids...)
	return append(out, w.last)
}
