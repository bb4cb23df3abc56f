#!/usr/bin/env bash
# lab.sh builds, by hand, the test labs that internal/lab builds for the Go
# tests: network namespaces with listeners and nftables rules, to scan with
# portscan and nmap side by side. Every address it uses exists only inside
# these namespaces. Run it as root.
#
#   bench/lab.sh up LAB...          build labs (rebuilt from scratch if up)
#   bench/lab.sh down [LAB...]      tear labs down (all of them by default)
#   bench/lab.sh exec LAB CMD...    run CMD in the lab's scanner namespace
#   bench/lab.sh status             list the labs that are up
#   bench/lab.sh rules LAB          print a lab's nftables rules
#
# Labs:
#   filtered  one namespace; on 127.0.0.1 and ::1: open 22 80 443 8080,
#             full backlog 8081 (127.0.0.1), closed 23 81 1023, RST 113,
#             dropped 25 135 3389, ICMP admin-prohibited 111 139, ICMP
#             host-unreachable 445; 127.0.0.2-3 drop everything. UDP: echo
#             53, silent 161, closed 69, dropped 514, admin-prohibited 137,
#             port-unreachable 520.
#   lan       scanner namespace at 198.18.0.254/24 (no other route), veth
#             to a hosts namespace: 198.18.0.1-5 live, 198.18.0.6-8 drop
#             everything, the rest of 198.18.0.0/24 unassigned (ARP fails).
#   lan20     the same on a /20: scanner 198.18.31.254/20; 198.18.16.1,
#             18.7, 21.30, 26.100 and 31.1 listen on some of 22 80 443
#             3306; 198.18.17.5, 24.9 and 29.200 drop everything; the
#             other 4087 addresses are unassigned (bench/syn.sh scans it).
#   loopback  one namespace; 127.0.0.1 with TCP listeners on 22 80 443
#             3306 8080 31337 and UDP echo on 53 123 161 40000, no
#             firewall: the speed benchmarks scan all its ports.
#   slash24   one namespace; 127.0.1.0/24 where 127.0.1.1, .23, .77, .128
#             and .254 have listeners and the other 251 addresses drop
#             everything.
#
# Example:
#   sudo bench/lab.sh up lan
#   sudo bench/lab.sh exec lan nmap -sT -p 1-1024 198.18.0.0/24
#   sudo bench/lab.sh exec lan ./portscan 198.18.0.0/24
#   sudo bench/lab.sh down
#
# Environment:
#   PORTSCAN_LAB_PREFIX  namespace name prefix (default psl-)
#   PORTSCAN_LAB_STATE   where labd and its logs go (default /run/portscan-lab)
#   GO                   the go command used to build labd
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${PORTSCAN_LAB_PREFIX:-psl-}
STATE=${PORTSCAN_LAB_STATE:-/run/portscan-lab}
LABD=$STATE/labd
LABS=(filtered lan lan20 slash24 loopback)

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
	exit "${1:-2}"
}

die() {
	echo "lab.sh: $*" >&2
	exit 1
}

need_root() {
	[[ $(id -u) == 0 ]] || die "run as root (namespaces and nftables need it)"
	command -v ip >/dev/null || die "ip not found: apt-get install -y iproute2"
	command -v nft >/dev/null || die "nft not found: apt-get install -y nftables"
}

check_lab() {
	local lab=$1 l
	for l in "${LABS[@]}"; do
		[[ $l == "$lab" ]] && return 0
	done
	die "unknown lab '$lab' (want one of: ${LABS[*]})"
}

# namespaces LAB: the namespaces of a lab, scanner's first.
namespaces() {
	case $1 in
	lan | lan20) echo "${PREFIX}$1-scanner ${PREFIX}$1-hosts" ;;
	*) echo "${PREFIX}$1" ;;
	esac
}

scanner_ns() {
	local ns
	read -r ns _ <<<"$(namespaces "$1")"
	echo "$ns"
}

ns_exists() {
	[[ -e /var/run/netns/$1 ]]
}

build_labd() {
	local go=${GO:-}
	if [[ -z $go ]]; then
		go=$(command -v go || true)
		[[ -n $go ]] || go=/usr/local/go/bin/go
	fi
	[[ -x $go ]] || die "go not found; set GO=/path/to/go"
	mkdir -p "$STATE"
	(cd "$ROOT" && CGO_ENABLED=0 "$go" build -o "$LABD.new" ./internal/lab/cmd/labd) ||
		die "building labd failed"
	mv -f "$LABD.new" "$LABD"
}

new_ns() {
	ip netns add "$1"
	ip -n "$1" link set lo up
}

# serve NS PRESET: set the namespace up as the preset says and start labd
# on its listeners, in the background; wait until it is ready.
serve() {
	local ns=$1 preset=$2 log=$STATE/$1.log i
	ip netns exec "$ns" setsid "$LABD" -setup -preset "$preset" </dev/null >"$log" 2>&1 &
	echo $! >"$STATE/$ns.pid"
	for ((i = 0; i < 100; i++)); do
		grep -qx ready "$log" 2>/dev/null && return 0
		kill -0 "$(cat "$STATE/$ns.pid")" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2 || true
	die "labd in $ns did not get ready"
}

# setup_only NS PRESET: set the namespace up; nothing to serve.
setup_only() {
	ip netns exec "$1" "$LABD" -setup -preset "$2" >/dev/null
}

down_ns() {
	local ns=$1 pid
	if ns_exists "$ns"; then
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null || true
		done
		ip netns del "$ns"
	fi
	rm -f "$STATE/$ns.pid" "$STATE/$ns.log"
}

lab_down() {
	local ns
	for ns in $(namespaces "$1"); do
		down_ns "$ns"
	done
}

lab_up() {
	local lab=$1 scanner hosts
	lab_down "$lab"
	case $lab in
	filtered)
		new_ns "${PREFIX}filtered"
		serve "${PREFIX}filtered" filtered
		;;
	slash24)
		new_ns "${PREFIX}slash24"
		serve "${PREFIX}slash24" slash24
		;;
	loopback)
		new_ns "${PREFIX}loopback"
		serve "${PREFIX}loopback" loopback
		;;
	lan | lan20)
		read -r scanner hosts <<<"$(namespaces "$lab")"
		new_ns "$scanner"
		new_ns "$hosts"
		ip link add eth0 netns "$scanner" type veth peer name eth0 netns "$hosts"
		ip -n "$scanner" link set eth0 up
		ip -n "$hosts" link set eth0 up
		setup_only "$scanner" "$lab-scanner"
		serve "$hosts" "$lab-hosts"
		;;
	esac
	echo "lab $lab is up; scan from it with: $0 exec $lab CMD..."
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
up)
	[[ $# -gt 0 ]] || usage
	need_root
	for lab in "$@"; do check_lab "$lab"; done
	build_labd
	for lab in "$@"; do lab_up "$lab"; done
	;;
down)
	need_root
	[[ $# -gt 0 ]] || set -- "${LABS[@]}"
	for lab in "$@"; do check_lab "$lab"; done
	for lab in "$@"; do lab_down "$lab"; done
	;;
exec)
	[[ $# -ge 2 ]] || usage
	need_root
	check_lab "$1"
	ns=$(scanner_ns "$1")
	ns_exists "$ns" || die "lab $1 is not up: $0 up $1"
	shift
	exec ip netns exec "$ns" "$@"
	;;
status)
	for lab in "${LABS[@]}"; do
		for ns in $(namespaces "$lab"); do
			if ns_exists "$ns"; then
				echo "$lab: $ns up, $(ip netns pids "$ns" 2>/dev/null | wc -l) processes"
			fi
		done
	done
	;;
rules)
	[[ $# -eq 1 ]] || usage
	check_lab "$1"
	[[ -x $LABD ]] || build_labd
	case $1 in
	lan | lan20) "$LABD" -rules "$1-hosts" ;;
	*) "$LABD" -rules "$1" ;;
	esac
	;;
-h | --help | help) usage 0 ;;
*) usage ;;
esac
