#!/usr/bin/env bash
# Memory of `portscan -iL -` on long target lists. Three lists are made
# in a temporary directory:
#
#   mixed-1M    1 million lines: every other one 127.0.0.1, the others
#               distinct addresses of 127.0.0.0/8 in scattered order
#   mixed-10M   the same with 10 million lines (5 million distinct)
#   repeat-10M  10 million lines of 127.0.0.1
#
# Each is fed on stdin to the built binary, which reads and checks the
# whole list, then scans port 1 of the one address left once
# --exclude takes out the rest of 127.0.0.0/8: the run ends fast and
# sends to 127.0.0.1 only. It prints the lines, the distinct addresses,
# the hosts scanned, the wall time and the maximum resident set size
# from GNU time (apt-get install time); the RSS must stay under 100 MB.
# As root it runs in a network namespace of its own with only lo up.
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT_KB=${LIMIT_KB:-102400}
command -v /usr/bin/time >/dev/null || { echo "bench/targets-list.sh: needs GNU time (apt-get install time)" >&2; exit 2; }

tmp=$(mktemp -d)
ns=""
cleanup() {
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$tmp/portscan" ./cmd/portscan

run=()
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null; then
  ns="portscan-bench-$$"
  ip netns add "$ns"
  ip netns exec "$ns" ip link set lo up
  run=(ip netns exec "$ns")
fi

# make NAME LINES MODE: writes $tmp/NAME. MODE mixed puts 127.0.0.1 on
# even lines and 127.x.y.z on odd ones, x.y.z running over a permutation
# of 2^24 (an odd multiplier), so that no two are alike; MODE repeat
# writes 127.0.0.1 only.
make_list() {
  awk -v n="$2" -v mode="$3" 'BEGIN {
    for (i = 0; i < n; i++) {
      if (mode == "repeat" || i % 2 == 0) { print "127.0.0.1"; continue }
      x = (int(i / 2) * 40503) % 16777216
      printf "127.%d.%d.%d\n", int(x / 65536), int(x / 256) % 256, x % 256
    }
  }' >"$tmp/$1"
}

printf '%-11s %10s %9s %6s %8s %9s\n' list lines distinct hosts wall "max RSS"
fail=0
for spec in mixed-1M:1000000:mixed mixed-10M:10000000:mixed repeat-10M:10000000:repeat; do
  IFS=: read -r name lines mode <<<"$spec"
  make_list "$name" "$lines" "$mode"
  distinct=$(sort -u "$tmp/$name" | wc -l)
  "${run[@]}" /usr/bin/time -v -o "$tmp/time" "$tmp/portscan" -q -Pn -p 1 --format jsonl \
    --exclude 127.0.0.0,127.0.0.2-127.255.255.255 -iL - <"$tmp/$name" >"$tmp/out"
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time")
  hosts=$(sed -n 's/.*"type":"summary".*"hosts":\([0-9]*\),.*/\1/p' "$tmp/out")
  printf '%-11s %10d %9d %6s %8s %6.1f MB\n' "$name" "$lines" "$distinct" "$hosts" "$wall" "$(echo "$rss / 1024" | bc -l)"
  if [ "$rss" -gt "$LIMIT_KB" ]; then
    echo "bench/targets-list.sh: $name: maximum RSS $rss kB is over $LIMIT_KB kB" >&2
    fail=1
  fi
  rm -f "$tmp/$name"
done
exit $fail
