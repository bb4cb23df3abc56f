// Package probes reads an nmap-service-probes file that the user already
// has, from their own nmap install (Debian's nmap package puts it at
// /usr/share/nmap/nmap-service-probes), and uses its probes and match
// lines to name services: [Load] parses it, [File.ProbesFor] plans which
// probes to send to a port, and [File.Match] names the service from a
// reply. Results carry [result.MethodServiceProbe].
//
// The file is the user's and stays theirs: portscan never ships it, nor
// any of its probes, patterns or match lines, because its licence forbids
// redistribution in a project under another licence. The fixtures of this
// package's tests are small made-up files.
//
// The patterns are Perl-compatible and match bytes. They are compiled with
// regexp2, a backtracking engine with lookaround, backreferences, atomic
// groups and possessive quantifiers, in its RE2 mode (ASCII \d, \s, \w),
// with $, \Z and \b rewritten to their PCRE meaning; each reply byte is
// matched as the rune of the same value (Latin-1), so \xHH in a pattern
// means that byte. Every match runs under a timeout, so a pattern that
// backtracks without end cannot hang a scan. A pattern the engine refuses
// is skipped and reported in [File.Refused]; it is not fatal.
//
// Where the engine and PCRE still differ: case-insensitive patterns fold
// Latin-1 letters (é and É) as well as ASCII ones, and \s leaves out the
// vertical tab. Of the patterns of the file Debian's nmap package
// installs, the engine refuses none.
package probes
