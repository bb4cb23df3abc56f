package detect

import (
	"github.com/portscan/portscan/result"
)

// MQTT 3.1.1 (OASIS, mqtt-v3.1.1-os). The probe is a CONNECT with a
// clean session and no credentials; the broker answers with a CONNACK
// whose return code says whether it took the connection. A CONNACK
// names neither the broker's product nor its version (mosquitto's is
// the same bytes as any other's): only "mqtt" can be read.
func init() {
	Register(&Protocol{
		Name:         "mqtt",
		Ports:        []uint16{1883},
		Probe:        mqttProbe,
		Match:        matchMQTT,
		MatchRequest: matchMQTTRequest,
	})
}

// mqttProbe is CONNECT (§3.1): protocol name "MQTT", level 4, connect
// flags CleanSession only, keep-alive 30 s, and a client identifier.
func mqttProbe(string) []byte {
	const id = "portscan"
	vh := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, byte(len(id))}
	vh = append(vh, id...)
	return append([]byte{0x10, byte(len(vh))}, vh...)
}

// mqttReturnCodes are the CONNACK return codes of §3.2.2.3.
var mqttReturnCodes = [...]string{
	"connection accepted", "unacceptable protocol version", "identifier rejected",
	"server unavailable", "bad user name or password", "not authorized",
}

func matchMQTT(got []byte) (result.Service, bool, bool) {
	// CONNACK (§3.2): type 2, flags 0, remaining length 2, the
	// acknowledge flags (session present, bit 0 only), the return code.
	want := [...]byte{0x20, 0x02}
	for i := 0; i < len(want); i++ {
		if i >= len(got) {
			return result.Service{}, false, true
		}
		if got[i] != want[i] {
			return result.Service{}, false, false
		}
	}
	if len(got) < 4 {
		if len(got) == 3 && got[2] > 1 {
			return result.Service{}, false, false
		}
		return result.Service{}, false, true
	}
	flags, rc := got[2], got[3]
	if flags > 1 || int(rc) >= len(mqttReturnCodes) || (flags == 1 && rc != 0) {
		return result.Service{}, false, false
	}
	return result.Service{Name: "mqtt", Info: mqttReturnCodes[rc], Confidence: 8}, true, false
}

// matchMQTTRequest reads a CONNECT: MQTT 3.1 ("MQIsdp", level 3), 3.1.1
// and 5.0 ("MQTT", levels 4 and 5).
func matchMQTTRequest(sent []byte) (result.Service, bool) {
	if len(sent) < 2 || sent[0] != 0x10 {
		return result.Service{}, false
	}
	// The remaining length, 1 to 4 bytes of 7 bits (§2.2.3).
	off := 1
	for ; off < len(sent) && off <= 4 && sent[off]&0x80 != 0; off++ {
	}
	off++
	b := octets(sent)
	n, ok := b.be16(off)
	if !ok {
		return result.Service{}, false
	}
	name, ok := b.span(off+2, int(n))
	level, ok2 := b.u8(off + 2 + int(n))
	if !ok || !ok2 {
		return result.Service{}, false
	}
	switch {
	case string(name) == "MQTT" && (level == 4 || level == 5), string(name) == "MQIsdp" && level == 3:
		return result.Service{Name: "mqtt", Confidence: 10}, true
	}
	return result.Service{}, false
}
