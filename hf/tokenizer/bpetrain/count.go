package bpetrain

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// WordCounts is what the trainer learns from: every distinct pre-tokenized word (raw bytes) and how
// often it occurs, plus the size of the text it came from.
type WordCounts struct {
	// Counts maps each word to its number of occurrences.
	Counts map[string]int64
	// Texts is the number of texts counted.
	Texts int
	// Chars is the number of Unicode characters in them (what compression is measured against).
	Chars int64
	// Bytes is their length in UTF-8 bytes.
	Bytes int64
}

// NewWordCounts returns an empty table.
func NewWordCounts() *WordCounts { return &WordCounts{Counts: map[string]int64{}} }

// AddText counts the words of one text. Like Hugging Face's trainer, each text is pre-tokenized on
// its own (a whitespace run at its end is one word), and special-token markers in it are plain text.
func (w *WordCounts) AddText(text string) {
	w.Texts++
	w.Chars += int64(utf8.RuneCountInString(text))
	w.Bytes += int64(len(text))
	SplitWords(text, func(word string) {
		if c, ok := w.Counts[word]; ok {
			w.Counts[word] = c + 1
		} else {
			w.Counts[strings.Clone(word)] = 1 // do not keep the whole text alive
		}
	})
}

// Merge adds the counts of o to w.
func (w *WordCounts) Merge(o *WordCounts) {
	for word, c := range o.Counts {
		w.Counts[word] += c
	}
	w.Texts += o.Texts
	w.Chars += o.Chars
	w.Bytes += o.Bytes
}

// CountTexts counts the words of texts with the given number of goroutines (0: GOMAXPROCS).
func CountTexts(texts []string, workers int) *WordCounts {
	ch := make(chan []string, 2*workerCount(workers))
	go func() {
		const batch = 256
		for i := 0; i < len(texts); i += batch {
			ch <- texts[i:min(i+batch, len(texts))]
		}
		close(ch)
	}()
	return countBatches(ch, workers)
}

func workerCount(workers int) int {
	if workers <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return workers
}

// countBatches counts the texts arriving on ch in parallel, one table per goroutine, merged at the end.
func countBatches(ch <-chan []string, workers int) *WordCounts {
	n := workerCount(workers)
	parts := make([]*WordCounts, n)
	var wg sync.WaitGroup
	for k := range n {
		parts[k] = NewWordCounts()
		wg.Go(func() {
			for texts := range ch {
				for _, t := range texts {
					parts[k].AddText(t)
				}
			}
		})
	}
	wg.Wait()
	// Merge into the largest table, which saves re-inserting most words.
	big := 0
	for k, p := range parts {
		if len(p.Counts) > len(parts[big].Counts) {
			big = k
		}
	}
	out := parts[big]
	for k, p := range parts {
		if k != big {
			out.Merge(p)
		}
	}
	return out
}

// ReadOptions say how CountJSONL reads its files.
type ReadOptions struct {
	// MaxChars stops reading once this many characters were read (0: no limit); the text that
	// crosses the limit is cut at it.
	MaxChars int64
	// Workers is the number of counting goroutines (0: GOMAXPROCS).
	Workers int
}

// CountJSONL streams JSONL files whose lines are objects with a "text" string and counts the words
// of every text. Blank lines are skipped; any other line is an error that names the file and line.
func CountJSONL(paths []string, opt ReadOptions) (*WordCounts, error) {
	if len(paths) == 0 {
		return nil, errors.New("no input files")
	}
	ch := make(chan []string, 2*workerCount(opt.Workers))
	done := make(chan *WordCounts)
	go func() { done <- countBatches(ch, opt.Workers) }()
	err := readTexts(paths, opt.MaxChars, ch)
	close(ch)
	counts := <-done
	if err != nil {
		return nil, err
	}
	if counts.Texts == 0 {
		return nil, fmt.Errorf("%s: no text lines", strings.Join(paths, ", "))
	}
	return counts, nil
}

// readTexts sends the texts of the files to ch in batches of about a megabyte.
func readTexts(paths []string, maxChars int64, ch chan<- []string) error {
	const batchBytes = 1 << 20
	var batch []string
	size, chars := 0, int64(0)
	for _, path := range paths {
		stop, err := eachText(path, func(text string) bool {
			if maxChars > 0 {
				n := int64(utf8.RuneCountInString(text))
				if chars+n >= maxChars {
					text = cutChars(text, maxChars-chars)
					n = maxChars - chars
				}
				chars += n
			}
			if text != "" {
				batch = append(batch, text)
				size += len(text)
			}
			if size >= batchBytes {
				ch <- batch
				batch, size = nil, 0
			}
			return maxChars > 0 && chars >= maxChars
		})
		if err != nil {
			return err
		}
		if stop {
			break
		}
	}
	if len(batch) > 0 {
		ch <- batch
	}
	return nil
}

// cutChars returns the first n characters of s.
func cutChars(s string, n int64) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// eachText calls fn with the "text" of every line of a JSONL file until fn returns true (stop).
func eachText(path string, fn func(text string) bool) (stop bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var line struct {
		Text *string `json:"text"`
	}
	for n := 1; ; n++ {
		raw, err := r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 {
			line.Text = nil
			if jerr := json.Unmarshal(trimmed, &line); jerr != nil {
				return false, fmt.Errorf("%s:%d: not a JSON object: %v", path, n, jerr)
			}
			if line.Text == nil {
				return false, fmt.Errorf(`%s:%d: no "text" string`, path, n)
			}
			if fn(*line.Text) {
				return true, nil
			}
		}
		if err == io.EOF {
			return false, nil
		}
	}
}
