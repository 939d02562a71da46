#!/usr/bin/env bash
# Installs Debian's redis-server and redis-tools (redis-cli,
# redis-benchmark) when they are not on PATH, for the real-server half
# of the tests. It only installs: it starts nothing, and the tests
# start their own throwaway servers on free ports.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 &&
	command -v redis-cli >/dev/null 2>&1 &&
	command -v redis-benchmark >/dev/null 2>&1; then
	exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends redis-server redis-tools
