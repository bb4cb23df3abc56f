package main

import (
	"strconv"
	"strings"

	"github.com/portscan/portscan/scan"
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
