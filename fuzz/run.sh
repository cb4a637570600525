#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 60), seeded with the rule fixtures.
# Needs cargo-fuzz; runs on the stable toolchain (no sanitizer: the `-Z` flags that
# AddressSanitizer needs are nightly-only, and the crate has no unsafe code of its own
# beyond two libc calls). A crash leaves its input under fuzz/artifacts/<target>/ and
# fails the run. Corpora grow under ${STACKAUDIT_FUZZ_CORPUS:-fuzz/corpus}.
#   fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(edit_sequences front_ends jsonrpc)
corpus_root="${STACKAUDIT_FUZZ_CORPUS:-fuzz/corpus}"

# front_ends reads its first byte as the language (0 Python, 1 Dockerfile, 2 compose).
seed_front_ends() {
    local dir="$corpus_root/front_ends" index=0 file selector
    mkdir -p "$dir"
    for file in tests/fixtures/*/* examples/shop/*.py examples/shop/*/*.py \
        examples/shop/Dockerfile* examples/shop/*.yml; do
        [ -f "$file" ] || continue
        case "$file" in
            *.py) selector='\x00' ;;
            *.yml | *.yaml) selector='\x02' ;;
            *) selector='\x01' ;;
        esac
        { printf "$selector"; cat "$file"; } > "$dir/seed-$index"
        index=$((index + 1))
    done
}

cargo fuzz build --sanitizer none 2>&1 | tail -n 1
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$corpus_root/$target"
    [ "$target" = front_ends ] && seed_front_ends
    echo "== fuzz $target for ${seconds}s"
    status=0
    cargo fuzz run --sanitizer none "$target" "$corpus_root/$target" -- \
        -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 > "$log" 2>&1 || status=$?
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|^Done" "$log" || true
    if [ "$status" -ne 0 ]; then
        # The failing input is under fuzz/artifacts/<target>/; show why it failed.
        grep -E -A 12 "panicked|ERROR: libFuzzer|SUMMARY" "$log" | head -n 60
        echo "fuzz target $target failed (exit $status); input saved under fuzz/artifacts/$target/"
        exit 1
    fi
done
