#!/usr/bin/env bash
# Records tshark-lo.pcapng: a pcapng file as tshark writes it, ending
# with an Interface Statistics Block after the last packet, which is what
# dumpcap, tshark and Wireshark all do. The traffic is made inside a
# network namespace of its own holding only lo, so that nothing but the
# script's own packets is captured and every packet stays on 127.0.0.1:
# a small server on 8080/tcp that sends a line and closes, clients that
# connect to it until tshark has its 20 packets, and a connection refused
# by 9/tcp before them. Needs root, ip, tshark and python3. The committed
# file is the reference for the goldens; recording again changes times
# and ports, so rerun `go test ./cmd/portscan -run Pcap -update` after.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-tshark-lo.pcapng}
ns=portscan-rec-$$

ip netns add "$ns"
trap 'ip netns del "$ns"' EXIT
ip netns exec "$ns" ip link set lo up

rm -f "$out"
# tshark runs as root here; -c stops it after 20 packets, and it writes
# the statistics block as it closes the file.
ip netns exec "$ns" tshark -q -i lo -c 20 -w "$out" 'host 127.0.0.1' 2>/dev/null &
shark=$!
sleep 2

ip netns exec "$ns" python3 - "$shark" <<'EOF'
import os, socket, sys, threading, time

shark = int(sys.argv[1])

def alive():
    try:
        os.kill(shark, 0)
        return True
    except OSError:
        return False

srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 8080))
srv.listen(8)

def serve():
    while True:
        c, _ = srv.accept()
        c.sendall(b"hello\r\n")
        c.close()

threading.Thread(target=serve, daemon=True).start()

# Refused: nothing listens on 9/tcp.
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2)
except ConnectionRefusedError:
    pass
time.sleep(0.1)
# Connections to the server until tshark stops, for at most 10 seconds.
deadline = time.time() + 10
while alive() and time.time() < deadline:
    c = socket.create_connection(("127.0.0.1", 8080), timeout=2)
    c.recv(64)
    c.close()
    time.sleep(0.2)
EOF

wait "$shark" || true
tshark -r "$out" >/dev/null
echo "wrote $out ($(tshark -r "$out" | wc -l) packets)"
