#!/usr/bin/env bash
# The main job: plug real VIFs into a throwaway network namespace, print
# what was made, and clean up (runs "os-vif demo"; needs root).
#
# Usage: tools/demo.sh [os-vif demo arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/setup-env.sh

ensure_ovs
ensure_venv >/dev/null
exec "$venv/bin/os-vif" demo "$@"
