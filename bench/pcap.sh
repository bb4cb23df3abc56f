#!/usr/bin/env bash
# Speed of `portscan pcap` (with service detection, as it runs by default)
# against `tshark -r FILE -q -z conv,tcp`, and its wall time against that
# of `tcpdump -nn -r FILE -w /dev/null` with a SYN-ACK filter, which only
# reads and filters, on the same capture of about SIZE_MB megabytes (200
# by default), built in a temporary directory by concatenating the
# fixtures in testdata/pcaps:
#
#   pcap    one pcap header, then the records of tcp-ethernet.pcap over
#           and over (one Ethernet capture, small packets)
#   pcapng  multi.pcapng and sll2.pcapng one after the other, over and
#           over: a pcapng file of many sections and interfaces
#
# For each it prints packets per second of portscan and tshark and their
# ratio, the wall times of portscan, tcpdump and tshark and portscan's
# over each other's, and the maximum resident set size of portscan at
# half and at full size, to show that memory stays flat as the file
# grows. tcpdump reads no pcapng file whose interfaces differ in link
# type: its columns are then "-". portscan and tcpdump run RUNS times (3
# by default) and the fastest run counts, which takes out the noise of a
# busy machine; tshark, a hundred times slower, runs once. The same TCP conversations
# recur thousands of times in such a file, which tshark's sequence number
# analysis takes hard; the last column is tshark with that analysis off
# (-o tcp.analyze_sequence_numbers:FALSE), a kinder baseline. Needs tshark,
# tcpdump and GNU time (apt-get install tshark tcpdump time). Nothing is written outside the temporary
# directory; it sends no traffic.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB=${SIZE_MB:-200}
FORMATS=${FORMATS:-"pcap pcapng"}
RUNS=${RUNS:-3}
SYNACK='tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack)'
for tool in tshark tcpdump /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench/pcap.sh: needs $tool" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/portscan" ./cmd/portscan

# grow FILE to at least N bytes by appending CHUNK.
grow() {
  local file=$1 chunk=$2 bytes=$3
  # A ~4 MB chunk first, by doubling, so the loop below is short.
  cp "$chunk" "$tmp/chunk"
  while [ "$(stat -c %s "$tmp/chunk")" -lt 4000000 ]; do
    cat "$tmp/chunk" "$tmp/chunk" >"$tmp/chunk2" && mv "$tmp/chunk2" "$tmp/chunk"
  done
  while [ "$(stat -c %s "$file")" -lt "$bytes" ]; do
    cat "$tmp/chunk" >>"$file"
  done
}

# make FORMAT MB: writes $tmp/FORMAT-MB.
make_capture() {
  local format=$1 mb=$2 out="$tmp/$1-$2"
  case $format in
  pcap)
    head -c 24 testdata/pcaps/tcp-ethernet.pcap >"$out"
    tail -c +25 testdata/pcaps/tcp-ethernet.pcap >"$tmp/records"
    grow "$out" "$tmp/records" $((mb * 1000000))
    ;;
  pcapng)
    : >"$out"
    cat testdata/pcaps/multi.pcapng testdata/pcaps/sll2.pcapng >"$tmp/sections"
    grow "$out" "$tmp/sections" $((mb * 1000000))
    ;;
  esac
  echo "$out"
}

# once CMD...: runs it under GNU time; sets ONCE_SECONDS and ONCE_RSS_KB;
# fails unless MAYFAIL is set, when it sets ONCE_SECONDS to "".
once() {
  /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || {
    if [ -n "${MAYFAIL:-}" ]; then ONCE_SECONDS=; return; fi
    echo "bench/pcap.sh: $* failed:" >&2; cat "$tmp/err" >&2; exit 1
  }
  ONCE_SECONDS=$(awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$tmp/time")
  ONCE_RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
}

# measure CMD...: the fastest of RUNS runs; sets SECONDS_TAKEN and RSS_KB
# (of that run), SECONDS_TAKEN empty if the command failed.
measure() {
  SECONDS_TAKEN= RSS_KB=0
  for _ in $(seq "$RUNS"); do
    once "$@"
    [ -n "$ONCE_SECONDS" ] || { SECONDS_TAKEN=; return; }
    if [ -z "$SECONDS_TAKEN" ] || awk -v a="$ONCE_SECONDS" -v b="$SECONDS_TAKEN" 'BEGIN { exit !(a < b) }'; then
      SECONDS_TAKEN=$ONCE_SECONDS RSS_KB=$ONCE_RSS_KB
    fi
  done
}

# over A B: A/B as "1.4x", or "-" when either is missing.
over() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b <= 0) print "-"; else printf "%.3gx", a / b }'; }

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

printf '%-7s %5s %9s %11s %10s %7s %8s %8s %8s %8s %8s %11s %10s %11s\n' format MB packets "portscan/s" "tshark/s" ratio \
  "ours s" "tcpdump s" "tshark s" "/tcpdump" "/tshark" "RSS half" "RSS full" "tshark -o/s"
for format in $FORMATS; do
  half=$(make_capture "$format" $((SIZE_MB / 2)))
  full=$(make_capture "$format" "$SIZE_MB")
  mb=$(( $(stat -c %s "$full") / 1000000 ))

  measure "$tmp/portscan" pcap --format jsonl -o /dev/null "$half"
  rss_half=$RSS_KB
  measure "$tmp/portscan" pcap --format jsonl -o /dev/null "$full"
  rss_full=$RSS_KB ours_s=$SECONDS_TAKEN
  packets=$(sed -n 's/^portscan: read \([0-9]*\) packets.*/\1/p' "$tmp/err")
  ours=$(rate "$packets" "$ours_s")

  MAYFAIL=1 measure tcpdump -nn -r "$full" -w /dev/null "$SYNACK"
  dump_s=${SECONDS_TAKEN:--}

  RUNS=1 measure tshark -r "$full" -q -z conv,tcp
  shark_s=$SECONDS_TAKEN
  theirs=$(rate "$packets" "$shark_s")

  RUNS=1 measure tshark -o tcp.analyze_sequence_numbers:FALSE -r "$full" -q -z conv,tcp
  kinder=$(rate "$packets" "$SECONDS_TAKEN")

  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
  printf '%-7s %5d %9d %11d %10d %7s %8s %9s %8s %8s %8s %8d KB %7d KB %11d\n' "$format" "$mb" "$packets" "$ours" "$theirs" "$ratio" \
    "$ours_s" "$dump_s" "$shark_s" "$(over "$ours_s" "${dump_s#-}")" "$(over "$ours_s" "$shark_s")" "$rss_half" "$rss_full" "$kinder"
  rm -f "$half" "$full"
done
