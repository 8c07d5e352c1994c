#!/usr/bin/env bash
# Pack the tester charm. First vendor the inverter library into lib/, where
# `charmcraft fetch-libs` puts a Charmhub library in an outside charm: the tester then
# imports charms.sungrow_sim_k8s.v0.inverter from this tree's lib/, unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$here/lib/charms/sungrow_sim_k8s/v0"
cp "$here/../../../lib/charms/sungrow_sim_k8s/v0/inverter.py" "$here/lib/charms/sungrow_sim_k8s/v0/"
cd "$here"
charmcraft pack "$@"
