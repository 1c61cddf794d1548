#!/bin/sh
# Usage: fuzz/run.sh TARGET [SECONDS] [extra libFuzzer args...]
# Builds TARGET with AddressSanitizer on the stable toolchain (RUSTC_BOOTSTRAP=1),
# copies the tracked seeds into the (git-ignored) corpus, and fuzzes one job
# at low priority for SECONDS (default 300) with the dictionary.
set -eu
cd "$(dirname "$0")"
target=$1
secs=${2:-300}
shift; [ $# -gt 0 ] && shift
mkdir -p "corpus/$target"
cp -n "seeds/$target"/* "corpus/$target/" 2>/dev/null || true
RUSTC_BOOTSTRAP=1 exec nice -n 10 cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$secs" -dict=pattern.dict -timeout=10 -print_final_stats=1 "$@"
