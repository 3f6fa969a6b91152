package datasets

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The phrasings of generated problems, read back by solveProblem.
var (
	sentenceRe = regexp.MustCompile(`[^.?]+[.?]`)
	shareRe    = regexp.MustCompile(`^(He|She) shares them equally among (\d+) friends\.$`)
	arithRules = []struct {
		re *regexp.Regexp
		do func(n int, m []string, atoi func(string) int) int
	}{
		{regexp.MustCompile(`^\w+ has (\d+) boxes with (\d+) \w+ in each box\.$`), func(_ int, m []string, atoi func(string) int) int { return atoi(m[1]) * atoi(m[2]) }},
		{regexp.MustCompile(`^\w+ has (\d+) \w+\.$`), func(_ int, m []string, atoi func(string) int) int { return atoi(m[1]) }},
		{regexp.MustCompile(`^(He|She) buys (\d+) packs of (\d+) \w+\.$`), func(n int, m []string, atoi func(string) int) int { return n + atoi(m[2])*atoi(m[3]) }},
		{regexp.MustCompile(`^(He|She) (buys|finds) (\d+) more\.$`), func(n int, m []string, atoi func(string) int) int { return n + atoi(m[3]) }},
		{regexp.MustCompile(`^(He|She) gives (\d+) to a friend\.$`), func(n int, m []string, atoi func(string) int) int { return n - atoi(m[2]) }},
		{regexp.MustCompile(`^(He|She) loses (\d+)\.$`), func(n int, m []string, atoi func(string) int) int { return n - atoi(m[2]) }},
	}
)

// solveProblem works a generated problem out again from its words, independently of the
// generator: each sentence is matched against the phrasings the generator uses. It also checks
// that no count goes below zero and returns the number of changes to the count.
func solveProblem(t *testing.T, text string) (answer, changes int) {
	t.Helper()
	q := strings.TrimSuffix(text, "\nAnswer:")
	sents := sentenceRe.FindAllString(q, -1)
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		return n
	}
	n, divisor := 0, 1
	for i, s := range sents {
		s = strings.TrimSpace(s)
		if strings.HasSuffix(s, "?") {
			if i != len(sents)-1 {
				t.Fatalf("%q: question before the end", text)
			}
			break
		}
		if m := shareRe.FindStringSubmatch(s); m != nil {
			divisor = atoi(m[2])
			if n%divisor != 0 {
				t.Errorf("%q: %d does not share evenly among %d", text, n, divisor)
			}
			continue
		}
		matched := false
		for _, r := range arithRules {
			if m := r.re.FindStringSubmatch(s); m != nil {
				n = r.do(n, m, atoi)
				matched = true
				if i > 0 {
					changes++
				}
				break
			}
		}
		if !matched {
			t.Fatalf("%q: sentence %q matches no phrasing", text, s)
		}
		if n < 0 {
			t.Errorf("%q: count below zero after %q", text, s)
		}
	}
	return n / divisor, changes
}

func TestArithmeticAnswers(t *testing.T) {
	for seed := uint64(0); seed < 3; seed++ {
		g := arithGen{rand.NewPCG(seed, 1)}
		for level := 1; level <= arithmeticLevels; level++ {
			for i := 0; i < 300; i++ {
				p, ok := g.problem(level)
				if !ok {
					continue
				}
				got, changes := solveProblem(t, p.text)
				if got != p.answer {
					t.Fatalf("%q: generator says %d, working it out gives %d", p.text, p.answer, got)
				}
				if want := min(level, 3); changes != want {
					t.Errorf("level %d problem with %d changes: %q", level, changes, p.text)
				}
				if shares := strings.Contains(p.text, "shares them"); shares != (level == 4) {
					t.Errorf("level %d, share %v: %q", level, shares, p.text)
				}
			}
		}
	}
}

func TestArithmeticPrepare(t *testing.T) {
	t.Parallel()
	d, _ := Get("arithmetic")
	out := t.TempDir()
	if _, err := d.Prepare(out, Options{Seed: 5}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, split := range splitNames {
		lines := readLines(t, fmt.Sprintf("%s/arithmetic.%s.jsonl", out, split))
		perLevel := map[int]int{}
		for _, l := range lines {
			prompt, completion := l["prompt"].(string), l["completion"].(string)
			if prev, dup := seen[prompt]; dup {
				t.Fatalf("prompt in %s and %s: %q", prev, split, prompt)
			}
			seen[prompt] = split
			got, _ := solveProblem(t, prompt)
			if completion != " "+strconv.Itoa(got) {
				t.Fatalf("%q: completion %q, worked out %d", prompt, completion, got)
			}
			perLevel[int(l["level"].(float64))]++
		}
		for level := 1; level <= arithmeticLevels; level++ {
			if perLevel[level] != arithmeticSizes[split] {
				t.Errorf("%s level %d: %d problems, want %d", split, level, perLevel[level], arithmeticSizes[split])
			}
		}
	}
}
