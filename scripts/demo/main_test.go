package main

import (
	"testing"

	"redis-by-hand/internal/lessontest"
)

func TestMain(m *testing.M) { lessontest.Main(m, "demo", main) }

// TestScripts replays the demo against a fresh sandbox and a fresh
// redis-server, and checks its whole transcript.
func TestScripts(t *testing.T) { lessontest.Run(t) }
