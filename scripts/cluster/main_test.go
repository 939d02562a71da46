package main

import (
	"testing"

	"redis-by-hand/internal/lessontest"
)

func TestMain(m *testing.M) { lessontest.Main(m, "embedded-cluster", main) }

func TestScripts(t *testing.T) { lessontest.Run(t) }
