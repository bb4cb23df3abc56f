#!/usr/bin/env bash
# syn.sh measures portscan's SYN scan (-sS) against its connect scan, nmap
# -sS, masscan and zmap, on the same labs in the same run (see
# bench/lab.sh; every address is inside a network namespace this script
# builds, and masscan and zmap are given that lab's subnet and interface
# only). Run it as root on a quiet machine:
#
#   bench/syn.sh [RUNS]       RUNS timed runs of each command (default 5)
#
# Scenarios:
#   lan20     the LAN /20 lab (4096 addresses: 5 hosts with listeners, 3
#             that drop everything, 4087 nobody's), ports 22,80,443,3306
#   loopback  all 65535 TCP ports of 127.0.0.1 in the loopback lab, and
#             the floor under it: the kernel's work for the SYNs and
#             resets alone (raw's BenchmarkLabLoopbackExchange)
#
# For each command it prints the median wall time, its ratio to nmap -sS
# -T4, and whether it found exactly the open ports the lab has. masscan
# and zmap are run at each of MASSCAN_RATES / ZMAP_RATES packets a second
# (zmap 2 scans one port a run: its four runs are timed together);
# on loopback neither can scan (frames they inject on lo for 127.0.0.1
# are dropped by the kernel as martians), which the script shows. Needs
# nmap, masscan, zmap and hyperfine (apt-get install nmap masscan zmap
# hyperfine).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${1:-5}
OUT=${PORTSCAN_BENCH_OUT:-$ROOT/bench/results}
LAB=$ROOT/bench/lab.sh
MASSCAN_RATES=${MASSCAN_RATES:-10000 100000 1000000}
ZMAP_RATES=${ZMAP_RATES:-10000 100000 1000000}
PORTS=22,80,443,3306
mkdir -p "$OUT"

for tool in nmap masscan zmap hyperfine python3; do
	command -v "$tool" >/dev/null || { echo "syn.sh: $tool is needed (apt-get install $tool)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "syn.sh: run as root (it builds network namespaces)" >&2; exit 2; }

BIN=$OUT/portscan
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/portscan)
trap '"$LAB" down lan20 loopback >/dev/null 2>&1 || true' EXIT
"$LAB" up lan20 loopback >/dev/null
HOSTS_MAC=$(ip netns exec "${PORTSCAN_LAB_PREFIX:-psl-}lan20-hosts" cat /sys/class/net/eth0/address)
SCANNER=198.18.31.254
NS=${PORTSCAN_LAB_PREFIX:-psl-}
LAN="ip netns exec ${NS}lan20-scanner" # timed commands run in the labs directly, without lab.sh's checks
LO="ip netns exec ${NS}loopback"
: >"$OUT/zmap-blocklist" # zmap's default list blocks the lab's 198.18.0.0/15

# The open ports the labs have, as "addr:port", sorted.
expected_lan20() {
	cat <<'EOF' | sort
198.18.16.1:22
198.18.16.1:80
198.18.18.7:443
198.18.21.30:22
198.18.21.30:3306
198.18.26.100:80
198.18.26.100:443
198.18.31.1:22
198.18.31.1:80
198.18.31.1:443
198.18.31.1:3306
EOF
}
expected_loopback() { printf '127.0.0.1:%s\n' 22 80 443 3306 8080 31337 | sort; }

# Each prints the open "addr:port" of one run, sorted.
open_portscan() {
	local lab=$1
	shift
	"$LAB" exec "$lab" "$BIN" -q --format csv "$@" | awk -F, 'NR > 1 && $5 == "open" { print $1 ":" $3 }' | sort
}
open_nmap() {
	local lab=$1
	shift
	"$LAB" exec "$lab" nmap -oG - "$@" |
		awk '/Ports:/ { host = $2; sub(/.*Ports: /, ""); n = split($0, p, ", ");
			for (i = 1; i <= n; i++) { split(p[i], f, "/"); if (f[2] == "open") print host ":" f[1] } }' | sort
}
masscan_cmd() { # RATE: the command line, lan20 (masscan may hang at exit: 60 s at most)
	echo "timeout 60 masscan 198.18.16.0/20 -p$PORTS --rate $1 --wait 1 --adapter eth0 --adapter-ip $SCANNER --router-mac $HOSTS_MAC"
}
open_masscan() {
	# shellcheck disable=SC2046
	"$LAB" exec lan20 $(masscan_cmd "$1") -oL - 2>/dev/null | awk '$1 == "open" { print $4 ":" $3 }' | sort
}
zmap_cmd() { # RATE PORT
	echo "timeout 60 zmap -q -b $OUT/zmap-blocklist -p $2 -r $1 -c 1 -i eth0 -S $SCANNER -G $HOSTS_MAC 198.18.16.0/20"
}
zmap_all() { # RATE: zmap on every port, one run a port
	local p
	for p in ${PORTS//,/ }; do
		# shellcheck disable=SC2046
		"$LAB" exec lan20 $(zmap_cmd "$1" "$p") 2>/dev/null | sed "s/\$/:$p/"
	done
}
open_zmap() { zmap_all "$1" | sort; }

# found NAME EXPECTED-FUNC OPEN-FUNC ARGS...: whether a run found exactly
# the lab's open ports.
found() {
	local name=$1 expected=$2
	shift 2
	if diff <("$expected") <("$@") >"$OUT/$name.diff"; then
		echo "all $("$expected" | wc -l)"
	else
		echo "MISSED $(grep -c '^<' "$OUT/$name.diff" || true), EXTRA $(grep -c '^>' "$OUT/$name.diff" || true)"
	fi
}

# time_cmd NAME COMMAND: the median wall time of COMMAND, in seconds (a
# run that fails, or is timed out, counts with its time).
time_cmd() {
	hyperfine -i --style none --runs "$RUNS" --warmup 1 --export-json "$OUT/$1.json" -n "$1" "$2" >/dev/null 2>&1
	python3 -c "import json,sys; print(f\"{json.load(open(sys.argv[1]))['results'][0]['median']:.3f}\")" "$OUT/$1.json"
}

row() { # NAME SECONDS NMAP-SECONDS FOUND
	python3 -c "import sys; n, s, ref, f = sys.argv[1:]; print(f'   {n:<34} {float(s):7.3f} s  {float(s)/float(ref):5.2f}x nmap  {f}')" "$@"
}

echo "== lan20: LAN /20, 4096 addresses, ports $PORTS"
nmap_s=$(time_cmd lan20-nmap "$LAN nmap -sS -T4 -n -p $PORTS 198.18.16.0/20")
row "nmap -sS -T4" "$nmap_s" "$nmap_s" "$(found lan20-nmap expected_lan20 open_nmap lan20 -sS -T4 -n -p $PORTS 198.18.16.0/20)"
s=$(time_cmd lan20-syn "$LAN $BIN -q -sS -n -p $PORTS 198.18.16.0/20")
row "portscan -sS" "$s" "$nmap_s" "$(found lan20-syn expected_lan20 open_portscan lan20 -sS -n -p $PORTS 198.18.16.0/20)"
s=$(time_cmd lan20-connect "$LAN $BIN -q -sT -n -p $PORTS 198.18.16.0/20")
row "portscan -sT" "$s" "$nmap_s" "$(found lan20-connect expected_lan20 open_portscan lan20 -sT -n -p $PORTS 198.18.16.0/20)"
for r in $MASSCAN_RATES; do
	s=$(time_cmd "lan20-masscan-$r" "$LAN $(masscan_cmd "$r")")
	row "masscan --rate $r --wait 1" "$s" "$nmap_s" "$(found "lan20-masscan-$r" expected_lan20 open_masscan "$r")"
done
for r in $ZMAP_RATES; do
	cmd="for p in ${PORTS//,/ }; do $LAN $(zmap_cmd "$r" '$p') >/dev/null 2>&1; done"
	s=$(time_cmd "lan20-zmap-$r" "bash -c '$cmd'")
	row "zmap -r $r -c 1 (4 runs)" "$s" "$nmap_s" "$(found "lan20-zmap-$r" expected_lan20 open_zmap "$r")"
done

echo "== loopback: all 65535 TCP ports of 127.0.0.1"
nmap_s=$(time_cmd lo-nmap "$LO nmap -sS -T4 -n -Pn -p- 127.0.0.1")
row "nmap -sS -T4 -Pn" "$nmap_s" "$nmap_s" "$(found lo-nmap expected_loopback open_nmap loopback -sS -T4 -n -Pn -p- 127.0.0.1)"
s=$(time_cmd lo-syn "$LO $BIN -q -sS -n -Pn -p- 127.0.0.1")
row "portscan -sS -Pn" "$s" "$nmap_s" "$(found lo-syn expected_loopback open_portscan loopback -sS -n -Pn -p- 127.0.0.1)"
s=$(time_cmd lo-connect "$LO $BIN -q -sT -n -Pn -p- 127.0.0.1")
row "portscan -sT -Pn" "$s" "$nmap_s" "$(found lo-connect expected_loopback open_portscan loopback -sT -n -Pn -p- 127.0.0.1)"
# The floor: the same 65535 SYNs and their resets with no scanner around
# them (raw's BenchmarkLabLoopbackExchange, two senders, in a namespace
# of its own), and its CPU time over the machine's CPUs, the least wall
# time any scanner could take here.
read -r floor_s floor_cpu < <(cd "$ROOT" && PORTSCAN_LAB_REQUIRE=1 go test ./raw -run '^$' -bench 'LabLoopbackExchange/senders=2' -benchtime "${RUNS}x" 2>/dev/null |
	awk '/senders=2/ { print $3 / 1e9, $5 / 1e3 }')
row "floor: the exchange alone (mean)" "$floor_s" "$nmap_s" "-"
row "floor: its CPU over $(nproc) CPUs" "$(python3 -c "import sys; print(float(sys.argv[1]) / int(sys.argv[2]))" "$floor_cpu" "$(nproc)")" "$nmap_s" "-"
masscan_lo=$("$LAB" exec loopback timeout 60 masscan 127.0.0.1 -p0-65535 --rate 1000000 --wait 1 --adapter lo --adapter-ip 127.0.0.1 \
	--router-mac 00:00:00:00:00:00 -oL - 2>/dev/null | grep -c '^open' || true)
echo "   masscan on lo (--rate 1000000): $masscan_lo open ports found; it cannot scan loopback"
