package datasets

import (
	"reflect"
	"slices"
	"testing"
)

func TestQuizPattern(t *testing.T) {
	cases := []struct {
		pat, render string
		expand      []string
	}{
		{"{G{eorge} }Washington", "George Washington", []string{"George Washington", "G Washington", "Washington"}},
		{"sleep|Duncan", "sleep", []string{"sleep", "Duncan"}},
		{"{I }[injure|thwart]", "I injure", []string{"I injure", "I thwart", "injure", "thwart"}},
		{"C[^o|o^|o]te", "Côte", []string{"C^ote", "Co^te", "Cote", "Côte"}},
		{"Yaound['e|e'|e]", "Yaoundé", []string{"Yaound'e", "Yaounde'", "Yaounde", "Yaoundé"}},
		{"Mo[z|,c|c,|c]ambique", "Mozambique", []string{"Mozambique", "Mo,cambique", "Moc,ambique", "Mocambique"}},
		{"7{(integers)}", "7", []string{"7(integers)", "7"}},
		{`a\:b\{c`, "a:b{c", []string{"a:b{c"}},
	}
	for _, c := range cases {
		a, err := parseQuiz(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		if got := a.render(); got != c.render {
			t.Errorf("render(%q) = %q, want %q", c.pat, got, c.render)
		}
		if got := a.expand(100); !reflect.DeepEqual(got, c.expand) {
			t.Errorf("expand(%q) = %q, want %q", c.pat, got, c.expand)
		}
	}
	for _, bad := range []string{"[open", "close}", "{mixed]"} {
		if _, err := parseQuiz(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if got := len(mustQuiz(t, "[a|b][c|d][e|f][g|h]").expand(5)); got != 5 {
		t.Errorf("expand limit: %d texts", got)
	}
	for pat, want := range map[string]string{"cap{ital}": "capital", "{Chinese{-}}year": "Chinese year",
		"M[iddle{-}Earth|E]": "Middle Earth", "U{niform{-}}C{riminal{-}}C{ode}": "Uniform Criminal Code"} {
		if got, err := quizTitle(pat); err != nil || got != want {
			t.Errorf("quizTitle(%q) = %q, %v; want %q", pat, got, err, want)
		}
	}
	if got := splitQuizLine(`a{b:c}:d\:e:[f:g]`); !reflect.DeepEqual(got, []string{"a{b:c}", `d\:e`, "[f:g]"}) {
		t.Errorf("splitQuizLine: %q", got)
	}
}

func mustQuiz(t *testing.T, pat string) qAlt {
	a, err := parseQuiz(pat)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestReadQuiz(t *testing.T) {
	subs, err := readQuiz("testdata/root/usr/share/games/bsdgames/quiz")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range subs {
		names = append(names, s.name)
	}
	if !reflect.DeepEqual(names, []string{"lands", "calc"}) {
		t.Fatalf("subjects %q, want lands and calc (ed is skipped)", names)
	}
	lands := subs[0]
	if !reflect.DeepEqual(lands.titles, []string{"lands", "capital"}) {
		t.Errorf("titles %q", lands.titles)
	}
	// 12 data lines: the continued line joins into one row and "Bad:[open" is left out.
	if len(lands.rows) != 10 || len(lands.bad) != 1 {
		t.Errorf("%d rows, bad %q; want 10 rows and 1 bad", len(lands.rows), lands.bad)
	}
	recs, ok := quizPairs(lands, 0, 1)
	if !ok {
		t.Fatal("lands→capital dropped")
	}
	byQ := map[string]taskRec{}
	for _, r := range recs {
		byQ[r.Prompt] = r
	}
	for prompt, want := range map[string]string{
		"lands: Westland\ncapital:": " Dusk City", "lands: Côteland\ncapital:": " Yéville",
		"lands: Hill:land\ncapital:": " Peak", "lands: Rivera\ncapital:": " Fordham"} {
		if got := byQ[prompt].Completion; got != want {
			t.Errorf("%q → %q, want %q", prompt, got, want)
		}
	}
	if a := byQ["lands: Midland\ncapital:"].Answers; !slices.Equal(a, []string{"Centre", "Center"}) {
		t.Errorf("accepted answers %q", a)
	}
	// calc: answer → calculation is ambiguous (7 answers two rows) for 2 of 5 rows: dropped.
	calc := subs[1]
	if _, ok := quizPairs(calc, 1, 0); ok {
		t.Error("ambiguous direction answer→calculation kept")
	}
	if recs, ok := quizPairs(calc, 0, 1); !ok || len(recs) != 5 {
		t.Errorf("calculation→answer: %d records, %v", len(recs), ok)
	}
}
