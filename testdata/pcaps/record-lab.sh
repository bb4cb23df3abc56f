#!/usr/bin/env bash
# Records lab-lo.pcap: real traffic on the loopback interface, captured by
# tcpdump, between clients and small servers on 127.0.0.2 (DNS-like UDP
# echo on 53, HTTP on 80, an SSH-like banner on 22), plus a connection
# refused (23/tcp) and an ICMP port unreachable (161/udp). Every packet
# stays on 127.0.0.0/8. Needs root, tcpdump and python3. The committed
# file is the reference for the goldens; recording again changes times
# and ports, so rerun `go test ./cmd/portscan -run Pcap -update` after.
set -euo pipefail
cd "$(dirname "$0")"
out=${1:-lab-lo.pcap}

tcpdump -i lo -U -s 256 -w "$out" 'host 127.0.0.2' 2>/dev/null &
dump=$!
sleep 1

python3 - <<'EOF'
import socket, threading, time, http.server, socketserver

def udp_echo():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.2", 53))
    data, peer = s.recvfrom(512)
    s.sendto(data[:2] + b"\x81\x80" + data[4:], peer)
    s.close()

def banner():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.2", 22))
    s.listen(1)
    c, _ = s.accept()
    c.sendall(b"SSH-2.0-lab_banner\r\n")
    c.recv(64)
    c.close()
    s.close()

class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass

socketserver.TCPServer.allow_reuse_address = True
httpd = socketserver.TCPServer(("127.0.0.2", 80), Quiet)
threads = [threading.Thread(target=f) for f in (udp_echo, banner, httpd.handle_request)]
for t in threads:
    t.start()
time.sleep(0.3)

# DNS-like query and its answer.
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
q.settimeout(2)
q.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03lab\x00\x00\x01\x00\x01", ("127.0.0.2", 53))
q.recvfrom(512)
# HTTP request.
h = socket.create_connection(("127.0.0.2", 80))
h.sendall(b"GET / HTTP/1.0\r\nHost: lab\r\n\r\n")
while h.recv(4096):
    pass
h.close()
# SSH-like banner.
b = socket.create_connection(("127.0.0.2", 22))
b.recv(64)
b.sendall(b"SSH-2.0-lab_client\r\n")
b.close()
# Refused: nothing listens on 23/tcp.
try:
    socket.create_connection(("127.0.0.2", 23), timeout=2)
except ConnectionRefusedError:
    pass
# ICMP port unreachable: nothing listens on 161/udp.
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"\x30\x26\x02\x01\x01", ("127.0.0.2", 161))
time.sleep(0.2)
for t in threads:
    t.join()
EOF

sleep 1
kill "$dump"
wait "$dump" 2>/dev/null || true
echo "wrote $out"
