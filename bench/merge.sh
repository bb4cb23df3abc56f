#!/usr/bin/env bash
# Memory and time of `portscan merge` on 4 shard outputs of a /16 scan
# of a million records each (about 256 MB a file): a host line for each
# of the 65536 hosts and port lines, 64 hosts in flight at a time, as
# cmd/portscan's TestMergeMemory writes them (40,000 records a file,
# 10,000 hosts, in the test suite). The merge runs in a child process,
# to jsonl and to XML on /dev/null; the test prints its wall and CPU time
# and its maximum resident set size, and fails over 200 MB. It needs
# about 1 GB in $TMPDIR and sends nothing on any network.
#
#   bench/merge.sh [RECORDS]    records a file (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
PORTSCAN_MERGE_RECORDS=$records go test -count=1 -timeout 60m -run '^TestMergeMemory$' -v ./cmd/portscan/ |
  grep -E 'merge_mem_test|^(--- |ok|FAIL)'
