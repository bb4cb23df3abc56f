// Package merge joins result files of one scan into one report: the
// outputs of its shards, of a run and the runs that resumed it, in
// portscan's jsonl, json and XML, and nmap's XML. The merged run goes
// to a result.Sink, so that every writer of package output writes it,
// and baseline, audit and diff read the report as they read a scan's.
//
// # What a merge keeps
//
// Hosts come in target order (result.Host.Index, the same in every
// shard), then the hosts no file gives an index (nmap's XML, and
// portscan's XML, which has no place for it) by address, IPv4 first. A
// host is its address and the name it was given; its records in all
// the files are merged: each port once, a definitive state (open,
// closed) over filtered and open|filtered, the later by time between
// two definitive ones, detection kept; up if any part saw it up; its
// counts those of the merged ports plus what each shard counted
// without listing (within one shard, its last whole record of the
// host's). The run's information is the
// first file's, its shard cleared; the summary is recounted.
//
// # Parts of one scan
//
// Each run of portscan carries the fingerprint of its scan's definition
// (targets, exclusions, ports, protocols, seed) in its scan record, or
// in XML in a comment "portscan-scan fingerprint=F seed=S shard=I/N".
// Open refuses files of different fingerprints, a file without one
// beside files with one (nmap's XML, output of older versions), and
// shards of different splits of one scan, unless Options.Force; files
// that all lack a fingerprint merge freely, as no file says they are
// of different scans. Two files of one shard (a run resumed into a
// file of its own, or one shard run twice) are one part of the scan.
// Shards that no file holds are named in Notes.
//
// Open reads and checks the files and builds the index; Run reads the
// records back and emits the merged run (see [Example]).
//
// # Memory
//
// No record is held but those of the host being merged. Open reads
// each file once and keeps, for each record, where it is: for jsonl
// each host line and port line (12 bytes a port line, 56 a host line),
// for json and XML each host element. Run reads the records back host
// by host, in target order, through a window of each file. So merge
// needs regular files, read twice: not standard input.
package merge
