package payload

import (
	"bytes"
	"encoding/hex"
)

// The small services of the early Internet. Each answers any datagram,
// so the request is empty or, for echo, a token to compare.

// echoProbe sends a random token; RFC 862 has the server send it back.
func echoProbe(r *stream) Probe {
	var tok [8]byte
	r.fill(tok[:])
	b := make([]byte, 0, 9+16)
	b = append(b, "portscan "...)
	b = hex.AppendEncode(b, tok[:])
	want := bytes.Clone(b)
	return Probe{
		Name:    "echo",
		RFC:     "RFC 862",
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			if !bytes.Equal(reply, want) {
				return false, "echo reply differs from the request"
			}
			return true, "echo-response match"
		},
	}
}

// anyReply accepts any non-empty datagram: the services below answer with
// free text that has nothing to check.
func anyReply(reply []byte) (bool, string) {
	if len(reply) == 0 {
		return false, "empty reply"
	}
	return true, ReasonUDPResponse
}

// systatProbe asks the Active Users service (RFC 866) for its user list.
func systatProbe(*stream) Probe {
	return Probe{Name: "systat", RFC: "RFC 866", Payload: []byte{}, Match: anyReply}
}

// daytimeProbe asks the Daytime service (RFC 867) for the date.
func daytimeProbe(*stream) Probe {
	return Probe{Name: "daytime", RFC: "RFC 867", Payload: []byte{}, Match: anyReply}
}

// qotdProbe asks the Quote of the Day service (RFC 865) for a quote.
func qotdProbe(*stream) Probe {
	return Probe{Name: "qotd", RFC: "RFC 865", Payload: []byte{}, Match: anyReply}
}

// chargenProbe asks the Character Generator (RFC 864) for one datagram of
// characters.
func chargenProbe(*stream) Probe {
	return Probe{Name: "chargen", RFC: "RFC 864", Payload: []byte{}, Match: anyReply}
}

// timeProbe sends the empty datagram of RFC 868; the answer is the time as
// a 32-bit count of seconds since 1900.
func timeProbe(*stream) Probe {
	return Probe{
		Name:    "time",
		RFC:     "RFC 868",
		Payload: []byte{},
		Match: func(reply []byte) (bool, string) {
			if len(reply) != 4 {
				return false, "time reply is not 4 bytes"
			}
			return true, "time-response"
		},
	}
}

// syslogProbe sends one message in the format of RFC 5424 §6, over UDP as
// RFC 5426 §3.1 carries it: facility user (1), severity debug (7), no
// timestamp or host name. Syslog never answers, so the probe only tells
// open|filtered from closed; should anything answer, it is not syslog but
// the port is still open.
func syslogProbe(*stream) Probe {
	return Probe{
		Name:    "syslog",
		RFC:     "RFC 5424 §6, RFC 5426 §3.1",
		Payload: []byte("<15>1 - - portscan - - - port probe"),
		Match:   anyReply,
	}
}
