package capture

import (
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// mss is the largest segment the made-up sessions send.
const mss = 1448

// session writes a whole TCP connection from cli to srv as Ethernet
// frames: the handshake, each chunk split into segments of at most mss
// bytes with the other side's ACK after it, and the FINs. Each packet is
// a millisecond after the one before, from at.
type session struct {
	t        *testing.T
	fs       *[]frame
	at       time.Duration
	cli, srv ep
	seq      [2]uint32 // next sequence number of the client and the server
}

func newSession(t *testing.T, fs *[]frame, at time.Duration, cli, srv ep, isnC, isnS uint32) *session {
	s := &session{t: t, fs: fs, at: at, cli: cli, srv: srv, seq: [2]uint32{isnC, isnS}}
	s.send(false, "S", "")
	s.send(true, "SA", "")
	s.send(false, "A", "")
	return s
}

// send writes one segment from the server (or the client) and advances
// its sequence number.
func (s *session) send(server bool, flags, payload string) {
	from, to, i := s.cli, s.srv, 0
	if server {
		from, to, i = s.srv, s.cli, 1
	}
	ack := s.seq[1-i]
	if flags == "S" {
		ack = 0
	}
	s.sendAt(from, to, flags, s.seq[i], ack, payload)
	s.seq[i] += uint32(len(payload))
	if flags == "S" || flags == "SA" || flags == "FA" {
		s.seq[i]++
	}
}

// sendAt writes one segment as it is, advancing nothing.
func (s *session) sendAt(from, to ep, flags string, seq, ack uint32, payload string) {
	*s.fs = append(*s.fs, frame{at: s.at, lt: layers.LinkTypeEthernet, data: ether(s.t, tcpSeg(s.t, from, to, flags, seq, ack, payload))})
	s.at += time.Millisecond
}

// write sends data from one side in segments, each acknowledged.
func (s *session) write(server bool, data string) {
	for len(data) > 0 {
		n := min(len(data), mss)
		s.send(server, "PA", data[:n])
		s.send(!server, "A", "")
		data = data[n:]
	}
}

func (s *session) close() {
	s.send(false, "FA", "")
	s.send(true, "FA", "")
	s.send(false, "A", "")
}

// detectFixture makes detect.pcap: flows that carry real protocol bytes,
// on usual and unusual ports, for service detection.
func detectFixture(t *testing.T) []byte {
	var fs []frame
	srv, cl := "10.5.0.5", "10.5.0.9"

	// SSH on an unusual port: the server greets first.
	s := newSession(t, &fs, ms(0), at(cl, 41000), at(srv, 2222), 1000, 50000)
	s.write(true, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
	s.write(false, "SSH-2.0-OpenSSH_9.6\r\n")
	s.close()

	// HTTP: the answer's second segment comes first and is dropped, the
	// first is sent twice, then the second again.
	s = newSession(t, &fs, ms(100), at(cl, 41001), at(srv, 8000), 2000, 60000)
	s.write(false, "GET / HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: curl/7.88.1\r\n\r\n")
	head := "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.2\r\n"
	rest := "Content-type: text/html\r\n\r\n<html><title>lab index</title></html>"
	base := s.seq[1]
	s.sendAt(s.srv, s.cli, "PA", base+uint32(len(head)), s.seq[0], rest)
	s.sendAt(s.srv, s.cli, "PA", base, s.seq[0], head)
	s.sendAt(s.srv, s.cli, "PA", base, s.seq[0], head)
	s.sendAt(s.srv, s.cli, "PA", base+uint32(len(head)), s.seq[0], rest)
	s.seq[1] += uint32(len(head) + len(rest))
	s.close()

	// TLS 1.2 on an unusual port, recorded from crypto/tls: SNI,
	// ALPN, the self-signed certificate.
	s = newSession(t, &fs, ms(200), at(cl, 41002), at(srv, 9443), 3000, 70000)
	for _, c := range readChunks(t, "tls12.txt") {
		s.write(c.server, string(c.data))
	}
	s.close()

	// TLS 1.3: the version, no certificate (it is encrypted).
	s = newSession(t, &fs, ms(300), at(cl, 41003), at("10.5.0.6", 443), 4000, 80000)
	for _, c := range readChunks(t, "tls13.txt") {
		s.write(c.server, string(c.data))
	}
	s.close()

	// Redis on an unusual port: INFO server and its bulk reply.
	s = newSession(t, &fs, ms(400), at(cl, 41004), at(srv, 7777), 5000, 90000)
	s.write(false, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
	info := "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux 6.1.0 x86_64\r\n"
	s.write(true, "$"+itoa(len(info))+"\r\n"+info+"\r\n")
	s.close()

	// A second SSH connection that sends nothing: the first one's
	// detection stands.
	s = newSession(t, &fs, ms(500), at(cl, 41005), at(srv, 2222), 6000, 100000)
	s.close()

	// HTTP mid-stream between two high uncatalogued ports: the ports
	// would make the lower one the server, the bytes say otherwise.
	mid := &session{t: t, fs: &fs, at: ms(600), cli: at(cl, 40080), srv: at("10.5.0.7", 50123), seq: [2]uint32{7000, 110000}}
	mid.write(false, "GET /status HTTP/1.1\r\nHost: 10.5.0.7\r\n\r\n")
	mid.write(true, "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Length: 0\r\n\r\n")

	// DNS over UDP: a query and its answer.
	q := "\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x09localhost\x00\x00\x01\x00\x01"
	answer := "\xab\xcd\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x09localhost\x00\x00\x01\x00\x01" +
		"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x7f\x00\x00\x01"
	fs = append(fs, frame{at: ms(700), lt: layers.LinkTypeEthernet, data: ether(t, udpDgram(t, at(cl, 41006), at("10.5.0.53", 53), q))},
		frame{at: ms(701), lt: layers.LinkTypeEthernet, data: ether(t, udpDgram(t, at("10.5.0.53", 53), at(cl, 41006), answer))})
	return writePcapgo(t, false, layers.LinkTypeEthernet, fs)
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
