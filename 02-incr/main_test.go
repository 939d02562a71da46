package main

import (
	"testing"

	"redis-by-hand/internal/lessontest"
)

func TestMain(m *testing.M) { lessontest.Main(m, "02-incr", main) }

// TestScripts runs testdata/*.txtar against the sandbox and, when it is
// installed, a real redis-server.
func TestScripts(t *testing.T) { lessontest.Run(t) }
