package main

import (
	"os"
	"os/exec"
	"testing"

	"redis-by-hand/internal/lessontest"
)

func TestMain(m *testing.M) { lessontest.Main(m, "tap", main) }

func TestScripts(t *testing.T) {
	// redis-cli comes with redis-server (Debian's redis-tools): where
	// the real server is required, so is the real client.
	if _, err := exec.LookPath("redis-cli"); err != nil &&
		os.Getenv("REDIS_SERVER_REQUIRED") == "1" {
		t.Fatal("REDIS_SERVER_REQUIRED=1 but redis-cli is not on PATH: " +
			"install redis-tools")
	}
	lessontest.Run(t)
}
