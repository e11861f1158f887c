#!/usr/bin/env bash
# One entry point for a fresh machine (see README):
#   bash scripts/setup.sh demo   install, build, transcribe the bundled sample with the defaults
#   bash scripts/setup.sh test   install, build, run the whole test suite (what CI runs)
# Provides Node 22 from the npm registry (node-<platform>-<arch>@22) when the machine has an older
# Node; needs npm, CMake >= 3.18 and a C++17 compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
task=${1:-demo}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  os=$(uname -s | tr '[:upper:]' '[:lower:]'); arch=$(uname -m)
  case "$arch" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; esac
  pkg="node-${os}-${arch}"
  if [ ! -x ".ci/node/node_modules/${pkg}/bin/node" ]; then
    echo "Node $(node --version 2>/dev/null || echo none) is too old; fetching ${pkg}@22 from the npm registry"
    npm install --no-save --no-package-lock --prefix .ci/node "${pkg}@22" >/dev/null
  fi
  export PATH="$PWD/.ci/node/node_modules/${pkg}/bin:$PATH"
fi
echo "node $(node --version), npm $(npm --version), cmake $(cmake --version | head -1 | awk '{print $3}')"

npm ci --no-audit --no-fund
start=$(date +%s)
npm run build
echo "build took $(( $(date +%s) - start )) s"

case "$task" in
  demo) npm run demo ;;
  test)
    # The real-recognizer tests (test/e2e/quality.test.ts) need Debian's PocketSphinx; elsewhere they are skipped.
    if ! command -v pocketsphinx_batch >/dev/null && command -v apt-get >/dev/null; then
      echo "installing pocketsphinx pocketsphinx-en-us (real-recognizer tests)"
      as_root=""; [ "$(id -u)" -eq 0 ] || as_root="sudo"
      $as_root apt-get install -y -qq pocketsphinx pocketsphinx-en-us >/dev/null || $as_root sh -c 'apt-get update -qq && apt-get install -y -qq pocketsphinx pocketsphinx-en-us' >/dev/null
    fi
    npm run build:whisper-tools # whisper.cpp's whisper-cli and whisper-server, for tests and benchmarks
    npm run build:raycast       # Raycast's own build of the extension (offline)
    npm test
    ;;
  *) echo "usage: bash scripts/setup.sh demo|test" >&2; exit 2 ;;
esac
