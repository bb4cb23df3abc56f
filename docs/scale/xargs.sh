#!/bin/sh
# One scan split into shards that run at once on one host, then merged:
#
#   TARGETS=hosts.txt docs/scale/xargs.sh -p 1-1024
#
# Arguments are portscan's scan flags, the same for every shard; the
# targets come from the file TARGETS names (portscan -iL). Environment:
#
#   TARGETS   the targets file (required)
#   SHARDS    how many shards (default 4), all run at once
#   SEED      the seed that deals the probes out to the shards (default:
#             a random one, kept in OUT/seed so that a rerun resumes)
#   OUT       where the parts, states and report go (default portscan-out)
#   PORTSCAN  the portscan binary (default: portscan on the PATH)
#
# Interrupted (Ctrl-C, a reboot), the same command carries on where each
# shard stopped: each keeps its state in OUT/state-K.json and appends to
# OUT/part-K.jsonl. The merged report is OUT/report.xml (nmap's XML) and
# OUT/report.jsonl.
set -eu

: "${TARGETS:?TARGETS must name a file of targets}"
SHARDS=${SHARDS:-4}
OUT=${OUT:-portscan-out}
PORTSCAN=${PORTSCAN:-portscan}

mkdir -p "$OUT"
if [ -z "${SEED:-}" ]; then
	if [ ! -s "$OUT/seed" ]; then
		od -An -N4 -tu4 /dev/urandom | tr -d ' \n' >"$OUT/seed"
	fi
	SEED=$(cat "$OUT/seed")
fi

# Every shard runs even when another fails; xargs then exits non-zero.
seq 0 $((SHARDS - 1)) | xargs -P "$SHARDS" -I{} \
	"$PORTSCAN" -q --shards "$SHARDS" --shard-index {} --seed "$SEED" \
	--resume "$OUT/state-{}.json" --format jsonl -o "$OUT/part-{}.jsonl" \
	-iL "$TARGETS" "$@"

# The parts, one argument each, in the place of the scan flags.
set --
k=0
while [ "$k" -lt "$SHARDS" ]; do
	set -- "$@" "$OUT/part-$k.jsonl"
	k=$((k + 1))
done
"$PORTSCAN" merge --format jsonl -o "$OUT/report.jsonl" "$@"
"$PORTSCAN" merge --format xml -o "$OUT/report.xml" "$OUT/report.jsonl"
