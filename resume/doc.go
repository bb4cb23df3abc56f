// Package resume lets a scan stopped by Ctrl-C, SIGTERM (an evicted
// Kubernetes pod), SIGKILL or a reboot go on where it stopped
// (portscan --resume STATE).
//
// A [Recorder] sits last before the output writers, after service
// detection, and takes checkpoints: at the start, every few seconds,
// and at the interruption, before the records of the hosts in flight
// and the documents' ends are written. A checkpoint is taken between
// two events, so that each output file ends where its Writer stands; it
// holds each file's length and its Writer's output.State, the scan's
// counts, which hosts are done (by result.Host.Index), and what was
// settled of each host in flight; [Write] puts it in the state file
// atomically (a temporary file synced, renamed over the old one, the
// directory synced), after syncing the output files.
//
// The next run reads the state ([ReadFile], [Parse]: it is input, and
// parsed defensively), truncates each output file to its length
// ([FileState.Reopen]) and continues its document (output.Continue,
// output.Restore with [State.Settled]), and runs the engine with
// [State.Engine]: the hosts done are skipped without a probe, those in
// flight go on with their settled ports skipped, and the counts go on
// from the state's. What was in flight at the checkpoint is probed
// again: after SIGKILL, at most what the last interval settled.
//
// A host's settled ports are written in a few numbers: the engine
// walks each host's ports in a seeded order (scanner.PortOrder), and a
// host's settled ports are nearly all the first steps of its walk
// (Host.Walked) with a few more ahead (Host.Ahead). In a shard, the
// steps of ports the shard does not own count as walked
// (Config.Owns).
package resume
