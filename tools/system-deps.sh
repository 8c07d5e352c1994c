#!/usr/bin/env bash
# Debian packages the default test run needs, installed only when missing (needs root):
# prometheus (the COS test's real Prometheus server and the static env's promtool) and
# chromium (the dashboard's browser tests; Playwright drives it, no browser download).
set -euo pipefail
missing=()
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update && apt-get install -y "${missing[@]}"
fi
