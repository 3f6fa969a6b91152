package datasets

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var srcQuiz = Source{Package: "bsdgames", Registry: Apt, Version: "2.17-29",
	License: "BSD-3-Clause (University of California); see /usr/share/doc/bsdgames/copyright",
	Path:    "usr/share/games/bsdgames/quiz"}

// quizSkip are subjects left out: ed commands and Greek in an ad-hoc transliteration, whose
// answers are patterns rather than text.
var quizSkip = []string{"ed", "greek"}

// quizOneWay are subjects asked only from the first category: their other categories (answers,
// next lines, sequence names) do not identify a row.
var quizOneWay = []string{"arith", "mult", "seq-easy", "seq-hard", "bard", "poetry"}

// Direction filter: a question category must determine the answer for at least this share of
// the rows (the ambiguous rows are dropped), and leave this many rows.
const (
	quizMinUnambiguous = 0.8
	quizMinRows        = 3
	quizMaxAnswers     = 16
)

func init() {
	register(Dataset{Name: "quiz", Kind: Task,
		Description: "bsdgames quiz(6) facts as question → answer pairs (capitals, elements, presidents, Latin, Shakespeare, ...); split by fact",
		License:     srcQuiz.License, Sources: []Source{srcQuiz},
		build: quizTask})
}

// quizSubject is one line of the quiz index: a data file and its category titles.
type quizSubject struct {
	name   string
	titles []string
	rows   [][]qAlt // per row, one pattern per category (nil when empty)
	bad    []string // rows left out because they do not parse
}

// readQuiz reads the index and the data files of the subjects it names (the index's paths are
// taken relative to dir), skipping quizSkip.
func readQuiz(dir string) ([]quizSubject, error) {
	indexPath := filepath.Join(dir, "index")
	lines, err := readQuizLines(indexPath)
	if err != nil {
		return nil, err
	}
	var subs []quizSubject
	for _, l := range lines {
		cats := splitQuizLine(l.text)
		if len(cats) < 3 {
			return nil, fmt.Errorf("%s:%d: expected FILE:CATEGORY:CATEGORY..., found %q", indexPath, l.no, l.text)
		}
		sub := quizSubject{name: filepath.Base(cats[0])}
		if slices.Contains(quizSkip, sub.name) {
			continue
		}
		for _, c := range cats[1:] {
			t, err := quizTitle(c)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", indexPath, l.no, err)
			}
			sub.titles = append(sub.titles, t)
		}
		dataPath := filepath.Join(dir, sub.name)
		rows, err := readQuizLines(dataPath)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			cats := splitQuizLine(r.text)
			if len(cats) > len(sub.titles) {
				sub.bad = append(sub.bad, fmt.Sprintf("%s:%d: %d categories, the index names %d", sub.name, r.no, len(cats), len(sub.titles)))
				continue
			}
			row := make([]qAlt, len(sub.titles))
			for i, c := range cats {
				if strings.TrimSpace(c) == "" {
					continue
				}
				if row[i], err = parseQuiz(c); err != nil {
					// The data files have a few typos (e.g. a '}' closing a '['): such a row is left out.
					sub.bad = append(sub.bad, fmt.Sprintf("%s:%d: %v", sub.name, r.no, err))
					row = nil
					break
				}
			}
			if row != nil {
				sub.rows = append(sub.rows, row)
			}
		}
		subs = append(subs, sub)
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("%s: no subjects", indexPath)
	}
	return subs, nil
}

// quizLine is a logical line of a quiz file (continuations joined) and its first line number.
type quizLine struct {
	text string
	no   int
}

// readQuizLines reads a quiz file's logical lines: a line ending in an unquoted backslash goes on
// in the next; blank lines are skipped.
func readQuizLines(path string) ([]quizLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var out []quizLine
	var cur strings.Builder
	start, no := 0, 0
	for sc.Scan() {
		no++
		line := toUTF8(sc.Bytes())
		if cur.Len() == 0 {
			start = no
		}
		trailing := len(line) - len(strings.TrimRight(line, `\`))
		if trailing%2 == 1 {
			cur.WriteString(line[:len(line)-1])
			continue
		}
		cur.WriteString(line)
		if strings.TrimSpace(cur.String()) != "" {
			out = append(out, quizLine{text: cur.String(), no: start})
		}
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, quizLine{text: cur.String(), no: start})
	}
	return out, sc.Err()
}

// quizDirections are the (question, answer) category pairs asked for a subject.
func quizDirections(sub quizSubject) [][2]int {
	var out [][2]int
	for j := 1; j < len(sub.titles); j++ {
		out = append(out, [2]int{0, j})
		if !slices.Contains(quizOneWay, sub.name) {
			out = append(out, [2]int{j, 0})
		}
	}
	return out
}

// quizAnswers lists the accepted answers: the canonical one first, then every other text the
// pattern accepts (normalised, at most quizMaxAnswers in all).
func quizAnswers(a qAlt, canonical string) []string {
	out := []string{canonical}
	for _, e := range a.expand(4 * quizMaxAnswers) {
		if e = normSpace(e); e != "" && !slices.Contains(out, e) && len(out) < quizMaxAnswers {
			out = append(out, e)
		}
	}
	return out
}

// quizTask writes the quiz task.
func quizTask(b *builder) error {
	dir, err := b.find(srcQuiz)
	if err != nil {
		return err
	}
	subs, err := readQuiz(dir)
	if err != nil {
		return err
	}
	// Rows (facts) go to splits, stratified by subject, so that no fact is asked in two splits.
	bySubject := map[string][]string{}
	for _, s := range subs {
		for i := range s.rows {
			bySubject[s.name] = append(bySubject[s.name], fmt.Sprintf("%s/%d", s.name, i+1))
		}
	}
	split := assignSplits(bySubject)
	bySplit := map[string][]taskRec{}
	var kept, dropped []string
	for _, s := range subs {
		for _, d := range quizDirections(s) {
			recs, ok := quizPairs(s, d[0], d[1])
			name := fmt.Sprintf("%s %s→%s", s.name, s.titles[d[0]], s.titles[d[1]])
			if !ok {
				dropped = append(dropped, name)
				continue
			}
			kept = append(kept, fmt.Sprintf("%s (%d)", name, len(recs)))
			for _, r := range recs {
				row, _, _ := strings.Cut(strings.TrimPrefix(r.ID, s.name+"/"), "/")
				sp := split[s.name+"/"+row]
				bySplit[sp] = append(bySplit[sp], r)
			}
		}
	}
	b.note("index subjects left out: %s", strings.Join(quizSkip, ", "))
	for _, s := range subs {
		for _, bad := range s.bad {
			b.note("row left out: %s", bad)
		}
	}
	b.note("asked: %s", strings.Join(kept, "; "))
	b.note("dropped (the question does not determine the answer): %s", strings.Join(dropped, "; "))
	b.note("split by fact (data-file row), stratified by subject; completion = canonical answer (first alternative, optional parts included, accents composed); answers = every accepted form")
	return b.writeTaskSplits("quiz", bySplit, false)
}

// quizPairs returns the question → answer records of one direction of a subject, without the
// rows whose question has several answers, or false when too few rows are unambiguous.
func quizPairs(s quizSubject, qi, ai int) ([]taskRec, bool) {
	type pair struct {
		row  int
		q, a string
	}
	var pairs []pair
	answers := map[string]map[string]bool{}
	for i, row := range s.rows {
		if row[qi] == nil || row[ai] == nil {
			continue
		}
		q, a := normSpace(row[qi].render()), normSpace(row[ai].render())
		if q == "" || a == "" {
			continue
		}
		key := strings.ToLower(q)
		if answers[key] == nil {
			answers[key] = map[string]bool{}
		}
		answers[key][strings.ToLower(a)] = true
		pairs = append(pairs, pair{i, q, a})
	}
	var recs []taskRec
	for _, p := range pairs {
		if len(answers[strings.ToLower(p.q)]) != 1 {
			continue
		}
		recs = append(recs, taskRec{
			Prompt:     s.titles[qi] + ": " + p.q + "\n" + s.titles[ai] + ":",
			Completion: " " + p.a,
			ID:         fmt.Sprintf("%s/%d/%d>%d", s.name, p.row+1, qi, ai),
			Answers:    quizAnswers(s.rows[p.row][ai], p.a),
		})
	}
	if len(pairs) == 0 || float64(len(recs)) < quizMinUnambiguous*float64(len(pairs)) || len(recs) < quizMinRows {
		return nil, false
	}
	return recs, true
}
