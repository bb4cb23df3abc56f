// Package baseline reads the results of earlier runs back and compares
// two of them: ports newly open or no longer open, hosts that appeared or
// went away, services that detection found changed, and optionally
// services whose label changed.
//
// Read takes what portscan writes (jsonl, json, and nmap-format XML),
// nmap's own XML, and packet captures (pcap, pcapng, gzipped or not),
// which go through the capture package's analysis (capture.Analyze):
// ReadContext and ReadFileContext stop it when their context is
// cancelled, and a damaged capture's error keeps the *capture.ReadError
// that says where it broke. The format is told from the content, not the
// file name; XML is decoded one <host> at a time into the nmapxml model
// that the output package writes it from. A Run holds, per host, the
// ports the file lists; Run.Writer collects the same from a live scan,
// keeping only what a comparison or an audit needs, so that a scan of
// every port does not hold every closed port in memory.
//
// The files come from elsewhere, so Read is strict about their shape and
// careful with what it echoes: a UTF-8 byte order mark and any amount of
// leading white space are skipped, data after the one JSON document or
// XML root element is refused with its byte offset, XML entities are
// never expanded (a document that uses one is refused), and an error
// quotes at most 40 bytes of the input, escaped, on one line. A
// compressed capture is read as a stream, in memory that does not grow
// with it.
//
// # What counts as a difference
//
// Only the open state matters: a port is newly open when it is open in
// the new run and was not in the old one, and no longer open in the
// reverse case, whatever the other state. That state is said: the one
// the other run lists, or the one its host's counts leave for every port
// it scanned and did not list (nmap's "1021 closed ports", portscan's
// counts), else "not listed" when it has no record of the port, or "not
// scanned". open|filtered, UDP's "no answer", is not open and counts as
// not open. A host appeared when it is up in the new run and was down or
// absent in the old one; it is gone in the reverse case; the open ports
// of such a host are listed with it, not as port changes. Labels are not
// compared unless CompareOptions.Labels is set: then a service changed
// when a port open in both runs carries another label. Each scanner
// labels from its own catalog, so nmap's and portscan's differ by design.
//
// What service detection found is compared by default, on ports open in
// both runs and named by detection in both: another service (a
// DetectedChanged change, "ssl/http" is not "http"), or the same service
// with another product or version (VersionChanged). These are real
// changes of what listens, unlike labels. A run without detection on the
// port, or where detection identified nothing, shows no change, so that
// a run without -sV, or a slow server that timed out, is not reported;
// nor are info, CPEs and TLS certificates, which are renewed as a matter
// of course. A port has at most one change: detection's before its label.
package baseline
