package main

import (
	"strconv"
	"strings"

	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/scan"
	"github.com/portscan/portscan/shard"
)

// timingValue is --timing's value: a template by number or by nmap's
// name. Unset (-1) it prints as nothing, so help shows no default.
type timingValue struct{ t *int }

func (v timingValue) String() string {
	if v.t == nil || *v.t < 0 {
		return ""
	}
	return strconv.Itoa(*v.t)
}

func (v timingValue) Set(s string) error {
	n, err := scan.ParseTiming(s)
	if err != nil {
		return err
	}
	*v.t = n
	return nil
}

func (v timingValue) Type() string { return "template" }

// timingWords are what --timing takes, for completion.
func timingWords() []string {
	words := []string{"0", "1", "2", "3", "4", "5"}
	return append(words, scan.TimingNames[:]...)
}

// nmapTiming rewrites nmap's spellings of a timing template as
// --timing: -T4, -T 4, -T=4, -Taggressive, -T aggressive. A -T with
// no value becomes --timing, which pflag then says needs one. It stops
// at "--", after which everything is an argument.
func nmapTiming(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case a == "-T" && i+1 < len(args):
			i++
			a = "--timing=" + args[i]
		case a == "-T":
			a = "--timing"
		case strings.HasPrefix(a, "-T"):
			a = "--timing=" + strings.TrimPrefix(a[2:], "=")
		}
		out = append(out, a)
	}
	return out
}

// shardValue is --shard's value, I/N counting from 1 (shard.Parse).
// Unset it prints as nothing, so help shows no default.
type shardValue struct{ s *result.Shard }

func (v shardValue) String() string {
	if v.s == nil {
		return ""
	}
	return v.s.String()
}

func (v shardValue) Set(text string) error {
	s, err := shard.Parse(text)
	if err != nil {
		return err
	}
	*v.s = s
	return nil
}

func (v shardValue) Type() string { return "share" }

// countValue is --shards' value: decimal digits only (shard.ParseCount),
// where pflag's int would read 010 as octal.
type countValue struct{ n *int }

func (v countValue) String() string {
	if v.n == nil || *v.n == 0 {
		return ""
	}
	return strconv.Itoa(*v.n)
}

func (v countValue) Set(text string) error {
	n, err := shard.ParseCount(text)
	if err != nil {
		return err
	}
	*v.n = n
	return nil
}

func (v countValue) Type() string { return "number" }

// indexValue is --shard-index's value: decimal digits only
// (shard.ParseIndex), so that $(JOB_COMPLETION_INDEX) goes in as it is.
type indexValue struct{ n *int }

func (v indexValue) String() string {
	if v.n == nil || *v.n == 0 {
		return ""
	}
	return strconv.Itoa(*v.n)
}

func (v indexValue) Set(text string) error {
	n, err := shard.ParseIndex(text)
	if err != nil {
		return err
	}
	*v.n = n
	return nil
}

func (v indexValue) Type() string { return "number" }
