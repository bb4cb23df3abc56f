package detect

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/portscan/portscan/result"
)

// MongoDB's wire protocol (the MongoDB manual, "MongoDB Wire Protocol":
// OP_MSG; BSON per bsonspec.org). The probe is two OP_MSG commands sent
// at once: isMaster, which every server since 3.6 answers before any
// authentication, and buildInfo, also allowed without authentication,
// whose "version" is the server's.
func init() {
	Register(&Protocol{
		Name:         "mongodb",
		Ports:        []uint16{27017, 27018, 27019},
		Probe:        mongoProbe,
		Match:        matchMongo,
		MatchRequest: matchMongoRequest,
	})
}

const (
	mongoOpReply = 1
	mongoOpQuery = 2004
	mongoOpMsg   = 2013
	mongoMaxMsg  = 48 << 20 // maxMessageSizeBytes
)

// mongoProbe sends {isMaster: 1, $db: "admin"} as request 1 and
// {buildInfo: 1, $db: "admin"} as request 2.
func mongoProbe(string) []byte {
	var out []byte
	for i, cmd := range []string{"isMaster", "buildInfo"} {
		out = append(out, mongoMsg(int32(i+1), bsonDoc(
			bsonInt32(cmd, 1),
			bsonString("$db", "admin"),
		))...)
	}
	return out
}

// mongoMsg frames an OP_MSG with one section of kind 0 (the body).
func mongoMsg(requestID int32, doc []byte) []byte {
	n := 16 + 4 + 1 + len(doc)
	b := binary.LittleEndian.AppendUint32(nil, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, uint32(requestID))
	b = binary.LittleEndian.AppendUint32(b, 0) // responseTo
	b = binary.LittleEndian.AppendUint32(b, mongoOpMsg)
	b = binary.LittleEndian.AppendUint32(b, 0) // flagBits
	b = append(b, 0)                           // section kind 0
	return append(b, doc...)
}

func bsonDoc(elems ...[]byte) []byte {
	n := 4 + 1
	for _, e := range elems {
		n += len(e)
	}
	b := binary.LittleEndian.AppendUint32(nil, uint32(n))
	for _, e := range elems {
		b = append(b, e...)
	}
	return append(b, 0)
}

func bsonInt32(name string, v int32) []byte {
	b := append([]byte{0x10}, name...)
	b = append(b, 0)
	return binary.LittleEndian.AppendUint32(b, uint32(v))
}

func bsonString(name, v string) []byte {
	b := append([]byte{0x02}, name...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)+1))
	b = append(b, v...)
	return append(b, 0)
}

// mongoHeader reads a message header: length, requestID, responseTo,
// opCode.
func mongoHeader(b octets) (n, responseTo, op uint32, ok bool) {
	n, ok1 := b.le32(0)
	responseTo, ok2 := b.le32(8)
	op, ok3 := b.le32(12)
	return n, responseTo, op, ok1 && ok2 && ok3
}

func matchMongo(got []byte) (result.Service, bool, bool) {
	b := octets(got)
	if len(got) < 16 {
		// The length is little-endian: its first bytes are small ones.
		// Rule out what the bytes at hand can: a length over the
		// maximum, an opCode that is not a reply's.
		if len(got) >= 4 {
			if n, _ := b.le32(0); n < 16 || n > mongoMaxMsg {
				return result.Service{}, false, false
			}
		}
		return result.Service{}, false, true
	}
	n, responseTo, op, _ := mongoHeader(b)
	if n < 16+5 || n > mongoMaxMsg || (op != mongoOpMsg && op != mongoOpReply) || responseTo > 2 {
		return result.Service{}, false, false
	}
	svc := result.Service{Name: "mongodb", Product: "MongoDB", Confidence: 10}
	if responseTo == 0 {
		svc.Confidence = 7 // not an answer to the probe's requests
	}
	// Read each whole reply of the two.
	for i := 0; i < 2 && len(b) >= 16; i++ {
		n, _, op, _ := mongoHeader(b)
		if n < 21 || int(n) > len(b) {
			break
		}
		var doc []byte
		switch op {
		case mongoOpMsg:
			if b[20] != 0 {
				break
			}
			doc = b[21:n]
		case mongoOpReply:
			// responseFlags, cursorID, startingFrom, numberReturned,
			// then the documents.
			if n > 36 {
				doc = b[36:n]
			}
		}
		mongoFields(&svc, doc)
		b = b[n:]
	}
	if svc.Version != "" {
		svc.CPE = cpe("mongodb", "mongodb", svc.Version)
	}
	return svc, true, false
}

// mongoFields reads the top-level fields of a reply document that tell
// about the server: buildInfo's version, isMaster's maxWireVersion, an
// error's code name.
func mongoFields(svc *result.Service, doc []byte) {
	d := octets(doc)
	total, ok := d.le32(0)
	if !ok || total < 5 || int(total) > len(doc) {
		return
	}
	d = d[4 : total-1]
	for i := 0; i < 256 && len(d) > 0; i++ {
		typ := d[0]
		end := -1
		for j := 1; j < len(d) && j < 256; j++ {
			if d[j] == 0 {
				end = j
				break
			}
		}
		if end < 0 {
			return
		}
		name := string(d[1:end])
		v := d[end+1:]
		size := bsonValueSize(typ, v)
		if size < 0 || size > len(v) {
			return
		}
		val := v[:size]
		switch {
		case name == "version" && typ == 0x02 && size > 5:
			if s := cleanBytes(val[4:size-1], 64); versionish(s) {
				svc.Version = s
			}
		case name == "maxWireVersion" && typ == 0x10 && svc.Version == "":
			w, _ := octets(val).le32(0)
			svc.Info = "maxWireVersion " + strconv.Itoa(int(int32(w)))
		case name == "codeName" && typ == 0x02 && size > 5:
			svc.Info = joinInfo(svc.Info, cleanBytes(val[4:size-1], 64))
		case name == "ok" && typ == 0x01:
			if f := math.Float64frombits(binary.LittleEndian.Uint64(val)); f != 1 && svc.Info == "" {
				svc.Info = "command failed"
			}
		}
		d = v[size:]
	}
}

// bsonValueSize returns the size of a BSON value of type typ at the start
// of v, or -1 for an unknown type or an impossible length.
func bsonValueSize(typ byte, v octets) int {
	l32 := func() int {
		n, ok := v.le32(0)
		if !ok || n > mongoMaxMsg {
			return -1
		}
		return int(n)
	}
	switch typ {
	case 0x01, 0x09, 0x11, 0x12: // double, UTC datetime, timestamp, int64
		return 8
	case 0x02, 0x0d, 0x0e: // string, JavaScript code, symbol
		if n := l32(); n >= 1 {
			return 4 + n
		}
	case 0x03, 0x04, 0x0f: // document, array, code with scope
		if n := l32(); n >= 5 {
			return n
		}
	case 0x05: // binary
		if n := l32(); n >= 0 {
			return 5 + n
		}
	case 0x06, 0x0a, 0x7f, 0xff: // undefined, null, max key, min key
		return 0
	case 0x07: // ObjectId
		return 12
	case 0x08: // boolean
		return 1
	case 0x10: // int32
		return 4
	case 0x13: // decimal128
		return 16
	case 0x0b: // regular expression: two C strings
		n := 0
		for k := 0; k < 2; k++ {
			for n < len(v) && v[n] != 0 {
				n++
			}
			n++
		}
		return n
	case 0x0c: // DBPointer
		if n := l32(); n >= 1 {
			return 4 + n + 12
		}
	}
	return -1
}

// matchMongoRequest reads an OP_MSG or OP_QUERY header with a BSON body.
func matchMongoRequest(sent []byte) (result.Service, bool) {
	b := octets(sent)
	n, responseTo, op, ok := mongoHeader(b)
	if !ok || n < 21 || n > mongoMaxMsg || responseTo != 0 || (op != mongoOpMsg && op != mongoOpQuery) {
		return result.Service{}, false
	}
	if op == mongoOpMsg {
		flags, ok1 := b.le32(16)
		kind, ok2 := b.u8(20)
		dl, ok3 := b.le32(21)
		if !ok1 || !ok2 || !ok3 || flags&^0x10003 != 0 || kind > 1 || dl < 5 || dl > n {
			return result.Service{}, false
		}
	}
	return result.Service{Name: "mongodb", Confidence: 8}, true
}
