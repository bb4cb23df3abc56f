#!/usr/bin/env bash
# discover.sh measures portscan's host discovery (-sn) against nmap's on
# the same lab, in the same run: the lan20 lab of bench/lab.sh, a LAN
# /20 (198.18.16.0/20, 4096 addresses) that holds five hosts with
# listeners, three that drop every packet but answer ARP, and the
# scanner (left out with --exclude: it is no host to find); nobody holds
# the other 4087 addresses. Every address is inside network namespaces
# this script builds. Run it as root on a quiet machine:
#
#   bench/discover.sh [RUNS]     RUNS timed runs of each command (default 5)
#
# It checks that both scanners find exactly the eight hosts that exist,
# then prints the median wall time of each and their ratio. Both run with
# privileges, so both discover by ARP. nmap gets -n: in the lab it has no
# DNS server for its reverse lookups, which would time out; portscan
# never makes them. Needs nmap and hyperfine (apt-get install nmap
# hyperfine).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-5}
OUT=${PORTSCAN_BENCH_OUT:-$ROOT/bench/results}
LAB=$ROOT/bench/lab.sh
TARGET=198.18.16.0/20
SCANNER=198.18.31.254
WANT="198.18.16.1 198.18.17.5 198.18.18.7 198.18.21.30 198.18.24.9 198.18.26.100 198.18.29.200 198.18.31.1"
mkdir -p "$OUT"

for tool in nmap hyperfine; do
	command -v "$tool" >/dev/null || { echo "discover.sh: $tool is needed (apt-get install $tool)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "discover.sh: run as root (it builds network namespaces)" >&2; exit 2; }

BIN=$OUT/portscan
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/portscan)
trap '"$LAB" down lan20 >/dev/null 2>&1 || true' EXIT
"$LAB" up lan20 >/dev/null

OURS=(-q -sn --exclude "$SCANNER" "$TARGET")
THEIRS=(-sn -T4 -n --exclude "$SCANNER" "$TARGET")

# up_ours, up_nmap: the addresses found up, sorted, one line.
up_ours() {
	"$LAB" exec lan20 "$BIN" --format grepable "${OURS[@]}" | awk '/Status: Up/ { print $2 }' | sort -V | tr '\n' ' ' | sed 's/ $//'
}
up_nmap() {
	"$LAB" exec lan20 nmap -oG - "${THEIRS[@]}" | awk '/Status: Up/ { print $2 }' | sort -V | tr '\n' ' ' | sed 's/ $//'
}

echo "== -sn of a LAN /20 ($TARGET, less the scanner): 4095 addresses, 8 hosts"
status=0
for who in ours nmap; do
	got=$("up_$who")
	if [[ $got == "$WANT" ]]; then
		echo "   $who: exactly the 8 hosts up"
	else
		echo "   $who: FOUND UP: $got"
		echo "   want:          $WANT"
		status=1
	fi
done
hyperfine --style none --runs "$RUNS" --warmup 1 --export-json "$OUT/discover.json" \
	-n portscan "$LAB exec lan20 $BIN ${OURS[*]}" \
	-n nmap "$LAB exec lan20 nmap ${THEIRS[*]}" >/dev/null
python3 - "$OUT/discover.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
p, n = r["portscan"]["median"], r["nmap"]["median"]
print(f"   median wall time: portscan {p:.3f} s, nmap {n:.3f} s; portscan/nmap = {p / n:.2f}")
PY
exit $status
