#!/usr/bin/env bash
# scan.sh measures portscan's TCP connect and UDP scans against nmap's on
# the same labs, in the same run (see bench/lab.sh; every address is inside
# a network namespace this script builds). Run it as root on a quiet
# machine:
#
#   bench/scan.sh [RUNS]       RUNS timed runs of each command (default 5)
#
# For each scenario it prints the median wall time of both scanners and
# checks that they found the same open ports; then it measures portscan's
# peak memory on a loopback /16 interrupted after 10 s. Needs nmap and
# hyperfine (apt-get install nmap hyperfine).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-5}
OUT=${PORTSCAN_BENCH_OUT:-$ROOT/bench/results}
LAB=$ROOT/bench/lab.sh
mkdir -p "$OUT"

for tool in nmap hyperfine; do
	command -v "$tool" >/dev/null || { echo "scan.sh: $tool is needed (apt-get install $tool)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "scan.sh: run as root (it builds network namespaces)" >&2; exit 2; }

BIN=$OUT/portscan
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/portscan)
trap '"$LAB" down >/dev/null 2>&1 || true' EXIT
"$LAB" up loopback lan slash24 >/dev/null

# open_ours LAB ARGS...: the open "addr:port" of a portscan run, sorted.
open_ours() {
	local lab=$1
	shift
	"$LAB" exec "$lab" "$BIN" -q --format csv "$@" |
		awk -F, 'NR > 1 && $5 == "open" { print $1 ":" $3 "/" $4 }' | sort
}

# open_nmap LAB ARGS...: the same from nmap's grepable output.
open_nmap() {
	local lab=$1
	shift
	"$LAB" exec "$lab" nmap -oG - "$@" |
		awk '/Ports:/ { host = $2; sub(/.*Ports: /, ""); n = split($0, p, ", ");
			for (i = 1; i <= n; i++) { split(p[i], f, "/"); if (f[2] == "open") print host ":" f[1] "/" f[3] } }' | sort
}

# scenario NAME LAB "PORTSCAN ARGS" "NMAP ARGS"
scenario() {
	local name=$1 lab=$2 ours=$3 theirs=$4
	echo "== $name"
	# shellcheck disable=SC2086
	if diff <(open_ours "$lab" $ours) <(open_nmap "$lab" $theirs) >"$OUT/$name.diff"; then
		echo "   same open ports: $(open_ours "$lab" $ours | wc -l)"
	else
		echo "   OPEN PORTS DIFFER (< portscan, > nmap):"
		sed 's/^/   /' "$OUT/$name.diff"
	fi
	hyperfine --style none --runs "$RUNS" --warmup 1 --export-json "$OUT/$name.json" \
		-n portscan "$LAB exec $lab $BIN -q $ours" \
		-n nmap "$LAB exec $lab nmap $theirs" >/dev/null
	python3 - "$OUT/$name.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, n = r["portscan"]["median"], r["nmap"]["median"]
print(f"   median wall time: portscan {p:.3f} s, nmap {n:.3f} s; portscan/nmap = {p / n:.2f}")
EOF
}

scenario all-ports loopback "-p- -n -Pn 127.0.0.1" "-sT -T4 -p- -n -Pn 127.0.0.1"
scenario all-udp-ports loopback "-sU -p- -n -Pn 127.0.0.1" "-sU -T4 -p- -n -Pn 127.0.0.1"
scenario lan-slash24 lan "-n 198.18.0.0/24" "-sT -T4 -n 198.18.0.0/24"
# nmap takes about 5 minutes on the firewalled loopback /24 (it cannot ARP
# on lo, and waits out each dropping host), so it runs there only on
# request; scanner/lab_test.go checks portscan's open ports against the
# lab's listeners.
if [[ ${BENCH_NMAP_SLOW:-0} == 1 ]]; then
	scenario loopback-slash24 slash24 "-n 127.0.1.0/24" "-sT -T4 -n 127.0.1.0/24"
else
	echo "== loopback-slash24 (portscan only; BENCH_NMAP_SLOW=1 adds nmap)"
	echo "   open ports: $(open_ours slash24 -n 127.0.1.0/24 | tr '\n' ' ')"
	hyperfine --style none --runs "$RUNS" --export-json "$OUT/loopback-slash24.json" \
		-n portscan "$LAB exec slash24 $BIN -q -n 127.0.1.0/24" >/dev/null
	python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"   median wall time: portscan {r['median']:.3f} s\")" "$OUT/loopback-slash24.json"
fi

echo "== memory: 127.1.0.0/16, all catalog ports, interrupted after 10 s"
"$LAB" exec loopback /usr/bin/time -f "%M" -o "$OUT/mem.txt" \
	timeout -s INT 10 "$BIN" -q --format json -o "$OUT/mem.json" 127.1.0.0/16 || true
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); s=d['summary']; print(f\"   valid JSON, interrupted={s['interrupted']}, {s['probes']} probes\")" "$OUT/mem.json"
echo "   peak RSS: $(($(tail -1 "$OUT/mem.txt") / 1024)) MiB"
