package main

import (
	"testing"

	"redis-by-hand/internal/lessontest"
)

// The same file in every lesson: the lesson's name is its folder's.
func TestMain(m *testing.M) { lessontest.Lesson(m, main) }

// TestScripts runs testdata/*.txtar against the embedded Redis and,
// when it is installed, a real redis-server.
func TestScripts(t *testing.T) { lessontest.Run(t) }
