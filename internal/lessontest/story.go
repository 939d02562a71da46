package lessontest

import "path/filepath"

// RunStory runs a lesson's main story, the scripts that hints.txt's
// "first:" line names (or, without one, the first that Check runs),
// each on a fresh embedded Redis, with the lesson's program in the
// folder bin. It returns the scripts, in order, and the first failure.
// make demo replays every lesson this way.
func RunStory(dir, bin string) (scripts []string, f *Failure, err error) {
	scripts, err = StoryScripts(dir)
	if err != nil {
		return nil, nil, err
	}
	lesson, checkWire, quick = filepath.Base(dir), true, false
	defer closePool(backends[0].name) // a cluster the scripts started
	tdir := filepath.Join(dir, "testdata")
	for _, path := range scripts {
		if f, err := checkScript(backends[0], path, tdir, bin); f != nil || err != nil {
			return scripts, f, err
		}
	}
	return scripts, nil, nil
}

// StoryScripts are the paths of a lesson's main story, in order.
func StoryScripts(dir string) ([]string, error) {
	hints, err := ReadHints(dir)
	if err != nil {
		return nil, err
	}
	all, err := ordered(dir, hints)
	if err != nil {
		return nil, err
	}
	return all[:max(1, len(hints.First))], nil
}

// ScriptWords splits a line of a script into its words as testscript
// reads them: on blanks, except inside '...', where a doubled quote is
// one. make demo shows the scripts' commands with it.
func ScriptWords(line string) []string {
	words := quotedFields(line)
	for i, w := range words {
		words[i] = unquoteArg(w)
	}
	return words
}
