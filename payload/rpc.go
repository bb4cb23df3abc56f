package payload

import "encoding/binary"

// ONC RPC program numbers (RFC 5531 Appendix C; RFC 1833 §3 for the
// portmapper, RFC 1813 §1 for NFS version 3).
const (
	rpcPortmapper = 100000
	rpcNFS        = 100003
)

// portmapProbe calls procedure 0 (NULL) of portmapper version 2, defined in
// RFC 1833 §3.2; any portmapper or rpcbind answers it.
func portmapProbe(r *stream) Probe {
	return rpcNullProbe(r, "rpc-portmap-null", "RFC 5531 §9, RFC 1833 §3.2", rpcPortmapper, 2)
}

// nfsProbe calls procedure 0 (NULL) of NFS version 3 (RFC 1813 §3.3.0),
// the version that still runs over UDP.
func nfsProbe(r *stream) Probe {
	return rpcNullProbe(r, "rpc-nfs-null", "RFC 5531 §9, RFC 1813 §3.3.0", rpcNFS, 3)
}

// rpcNullProbe builds an RPC CALL message (RFC 5531 §9) with AUTH_NONE
// credentials and verifier (§8.1). The reply's xid must be the call's.
func rpcNullProbe(r *stream, name, rfc string, prog, vers uint32) Probe {
	xid := r.u32()
	b := make([]byte, 40)
	binary.BigEndian.PutUint32(b[0:], xid)
	binary.BigEndian.PutUint32(b[4:], 0) // msg_type CALL
	binary.BigEndian.PutUint32(b[8:], 2) // rpcvers
	binary.BigEndian.PutUint32(b[12:], prog)
	binary.BigEndian.PutUint32(b[16:], vers)
	binary.BigEndian.PutUint32(b[20:], 0) // proc NULL
	// cred and verf: flavor AUTH_NONE (0), body length 0.
	return Probe{
		Name:    name,
		RFC:     rfc,
		Payload: b,
		Match: func(reply []byte) (bool, string) {
			return matchRPC(reply, xid)
		},
	}
}

// matchRPC checks an RPC REPLY (RFC 5531 §9): a denied or failed call
// (PROG_MISMATCH, AUTH_ERROR...) still comes from an RPC server, so only
// the xid and the message type are checked.
func matchRPC(reply []byte, xid uint32) (bool, string) {
	if len(reply) < 12 {
		return false, "rpc reply too short"
	}
	if be32(reply, 4) != 1 {
		return false, "not an rpc reply"
	}
	if be32(reply, 0) != xid {
		return false, "rpc xid mismatch"
	}
	if st := be32(reply, 8); st > 1 {
		return false, "rpc reply with an unknown reply_stat"
	}
	return true, "rpc-reply xid match"
}
