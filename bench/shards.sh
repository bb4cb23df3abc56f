#!/usr/bin/env bash
# shards.sh measures a scan split into shards against the same scan run
# whole, on the LAN lab of bench/lab.sh (every address is inside network
# namespaces this script builds). Run it as root:
#
#   bench/shards.sh [RUNS] [N]   RUNS timed runs of each command
#                                (default 5), N shards (default 4)
#
# The scan is every TCP port of the lab's five live hosts
# (198.18.0.1-5, -p- -Pn: 327,675 probes), which the probes bound, not
# the timeouts. The whole scan runs first, then each shard of N, one
# after the other (--shards N --shard-index K, the same --seed), each
# timed by hyperfine; it checks that the shards found together exactly
# the open ports of the whole scan, and prints each shard's median wall
# time, its ratio to the whole scan's, the ideal ratio 1/N, and its
# CPU time (user and system) against the whole scan's. A
# scan whose time goes to waiting for silent hosts (discovery of an
# empty subnet) gains nothing: every shard waits for every host. Needs
# hyperfine (apt-get install hyperfine).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-5}
N=${2:-4}
OUT=${PORTSCAN_BENCH_OUT:-$ROOT/bench/results}
LAB=$ROOT/bench/lab.sh
mkdir -p "$OUT"

command -v hyperfine >/dev/null || { echo "shards.sh: hyperfine is needed (apt-get install hyperfine)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "shards.sh: run as root (it builds network namespaces)" >&2; exit 2; }

BIN=$OUT/portscan
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/portscan)
trap '"$LAB" down lan >/dev/null 2>&1 || true' EXIT
"$LAB" up lan >/dev/null

SCAN="-q -p- -Pn --seed 20261201 198.18.0.1-5"

# open ARGS...: the open "addr:port/proto" of a run, sorted.
open() {
	# shellcheck disable=SC2086
	"$LAB" exec lan "$BIN" --format csv $SCAN "$@" |
		awk -F, 'NR > 1 && $5 == "open" { print $1 ":" $3 "/" $4 }' | sort
}

echo "== open ports: whole scan against its $N shards"
open >"$OUT/shards-whole.txt"
: >"$OUT/shards-parts.txt"
for ((k = 0; k < N; k++)); do
	open --shards "$N" --shard-index "$k" >>"$OUT/shards-parts.txt"
done
if diff "$OUT/shards-whole.txt" <(sort "$OUT/shards-parts.txt") >"$OUT/shards.diff"; then
	echo "   the same: $(wc -l <"$OUT/shards-whole.txt") open ports"
else
	echo "   OPEN PORTS DIFFER (< whole, > shards):"
	sed 's/^/   /' "$OUT/shards.diff"
fi

cmds=(-n whole "$LAB exec lan $BIN $SCAN")
for ((k = 0; k < N; k++)); do
	cmds+=(-n "shard $((k + 1))/$N" "$LAB exec lan $BIN $SCAN --shards $N --shard-index $k")
done
hyperfine --style none --runs "$RUNS" --warmup 1 --export-json "$OUT/shards.json" "${cmds[@]}" >/dev/null
python3 - "$OUT/shards.json" "$N" <<'EOF'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
whole = results[0]["median"]
cpu = lambda r: r["user"] + r["system"]
print(f"== median wall time of {len(results[0]['times'])} runs (327,675 probes whole), and mean CPU time (user + system)")
print(f"   whole     {whole:.3f} s  CPU {cpu(results[0]):.2f} s")
for r in results[1:]:
    print(f"   {r['command']:<9} {r['median']:.3f} s  {r['median'] / whole:.2f} of the whole scan (ideal {1 / n:.2f})  CPU {cpu(r):.2f} s, {cpu(r) / cpu(results[0]):.2f}")
total = sum(r["median"] for r in results[1:])
print(f"   the {n} shards one after the other: {total:.3f} s, {total / whole:.2f} of the whole scan")
EOF
