package detect

import (
	"bytes"
	"strings"

	"github.com/portscan/portscan/result"
)

// AMQP 0-9-1 (the AMQP 0-9-1 specification, §4.2 "Protocol Header",
// §4.2.3 frames, and the Connection.Start method of its class
// reference). The client opens with the protocol header; the server
// answers with Connection.Start, whose server-properties table names
// its product, version and platform (RabbitMQ's do), or, when it does
// not speak 0-9-1, with the header of the protocol it speaks and closes
// (§4.2.2).
func init() {
	Register(&Protocol{
		Name:         "amqp",
		Ports:        []uint16{5672},
		Probe:        func(string) []byte { return []byte(amqpHeader) },
		Match:        matchAMQP,
		MatchRequest: matchAMQPRequest,
	})
}

const amqpHeader = "AMQP\x00\x00\x09\x01"

// maxFrame bounds the Connection.Start frame read.
const maxFrame = 1 << 20

func matchAMQP(got []byte) (result.Service, bool, bool) {
	if len(got) == 0 {
		return result.Service{}, false, true
	}
	svc := result.Service{Name: "amqp", Confidence: 10}
	if got[0] == 'A' {
		// A protocol header of another version: "AMQP", then the
		// protocol id and version bytes (AMQP 1.0 §2.2: 0 1 0 0 and
		// 2 1 0 0 and 3 1 0 0 for SASL and TLS; older 0-8 and 0-9: 1 1
		// then the version).
		if isPrefixOf(got, "AMQP") {
			return result.Service{}, false, true
		}
		if string(got[:4]) != "AMQP" {
			return result.Service{}, false, false
		}
		if len(got) < 8 {
			return result.Service{}, false, true
		}
		switch {
		case got[4] <= 3 && got[5] == 1 && got[6] == 0 && got[7] == 0:
			svc.Info = "AMQP 1.0"
		case got[4] == 1 && got[5] == 1:
			svc.Info = "AMQP " + string('0'+got[6]%10) + "-" + string('0'+got[7]%10)
		case got[4] == 0 && got[5] == 0:
			svc.Info = "AMQP 0-" + string('0'+got[6]%10) + "-" + string('0'+got[7]%10)
		default:
			return result.Service{}, false, false
		}
		return svc, true, false
	}
	// A method frame (type 1) on channel 0 whose payload starts with
	// class 10 (connection) method 10 (start), major 0 minor 9.
	if isPrefixOf(got, "\x01\x00\x00") {
		return result.Service{}, false, true
	}
	if !bytes.HasPrefix(got, []byte("\x01\x00\x00")) {
		return result.Service{}, false, false
	}
	b := octets(got)
	size, ok := b.be32(3)
	if !ok {
		return result.Service{}, false, true
	}
	if size < 4+2+4+4+4 || size > maxFrame {
		return result.Service{}, false, false
	}
	head := []byte{0, 10, 0, 10, 0, 9}
	for i, w := range head {
		if 7+i >= len(got) {
			return result.Service{}, false, true
		}
		if got[7+i] != w {
			return result.Service{}, false, false
		}
	}
	payload := b[7:min(len(b), 7+int(size))]
	tlen, ok := payload.be32(6)
	if !ok {
		return svc, true, false
	}
	table, ok := payload.span(10, int(tlen))
	if !ok {
		table = payload[10:] // cut short: read the whole fields there are
	}
	props := amqpTable(table)
	if p := props["product"]; p != "" {
		svc.Product = p
	}
	if v := props["version"]; versionish(v) {
		svc.Version = v
	}
	svc.Info = props["platform"]
	if strings.EqualFold(svc.Product, "RabbitMQ") && svc.Version != "" {
		svc.CPE = cpe("vmware", "rabbitmq", svc.Version)
	}
	return svc, true, false
}

// amqpTable reads the long-string fields of a field table (§4.2.5.5,
// with the type letters RabbitMQ and Qpid use, listed in the 0-9-1
// errata): other types are skipped.
func amqpTable(t octets) map[string]string {
	out := map[string]string{}
	for i := 0; i < 64 && len(t) > 0; i++ {
		nl := int(t[0])
		name, ok := t.span(1, nl)
		typ, ok2 := t.u8(1 + nl)
		if !ok || !ok2 {
			return out
		}
		v := t[2+nl:]
		var size int
		switch typ {
		case 't', 'b', 'B':
			size = 1
		case 's', 'u', 'U':
			size = 2
		case 'I', 'i', 'f':
			size = 4
		case 'D':
			size = 5
		case 'l', 'L', 'd', 'T':
			size = 8
		case 'V':
			size = 0
		case 'S', 'x', 'A', 'F':
			n, ok := v.be32(0)
			if !ok || n > maxFrame {
				return out
			}
			size = 4 + int(n)
			if typ == 'S' && size <= len(v) {
				out[strings.ToLower(string(name))] = cleanBytes(v[4:size], maxText)
			}
		default:
			return out
		}
		if size > len(v) {
			return out
		}
		t = v[size:]
	}
	return out
}

// matchAMQPRequest reads the protocol header a client opens with.
func matchAMQPRequest(sent []byte) (result.Service, bool) {
	if len(sent) >= 8 && string(sent[:4]) == "AMQP" && sent[4] <= 3 {
		return result.Service{Name: "amqp", Confidence: 10}, true
	}
	return result.Service{}, false
}
