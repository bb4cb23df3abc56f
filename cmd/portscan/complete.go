package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// wordsKey is the flag annotation that holds the words a flag takes,
// which its completion suggests; a command that narrows a shared flag
// (audit's --format) sets it again.
const wordsKey = "portscan_words"

// completeWords makes the flag name of cmd complete the words given.
func completeWords(cmd *cobra.Command, name string, words ...string) {
	f := cmd.Flags().Lookup(name)
	if f == nil {
		f = cmd.PersistentFlags().Lookup(name)
	}
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	if _, ok := f.Annotations[wordsKey]; ok {
		f.Annotations[wordsKey] = words
		return
	}
	f.Annotations[wordsKey] = words
	list := f.Value.Type() == "stringSlice"
	cmd.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var words []string
		for _, w := range f.Annotations[wordsKey] {
			if strings.HasPrefix(w, toComplete) || list {
				words = append(words, w)
			}
		}
		if !list {
			return words, cobra.ShellCompDirectiveNoFileComp
		}
		// A comma-separated list: complete its last item, after those
		// written, leaving room for one more.
		cut := strings.LastIndex(toComplete, ",") + 1
		done, _ := strings.CutSuffix(toComplete[:cut], ",")
		var out []string
		for _, w := range words {
			if !strings.Contains(","+done+",", ","+w+",") && strings.HasPrefix(toComplete[:cut]+w, toComplete) {
				out = append(out, toComplete[:cut]+w)
			}
		}
		return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
	})
}

// completeRest gives every flag of cmd and its subcommands that takes a
// value and has no completion yet one: file names for a flag whose
// value is a FILE or PATH, nothing for the others (numbers, durations,
// port and target lists), which would otherwise suggest file names.
func completeRest(cmd *cobra.Command) {
	each := func(f *pflag.Flag) {
		if f.Value.Type() == "bool" || f.Value.Type() == "count" {
			return
		}
		if _, ok := cmd.GetFlagCompletionFunc(f.Name); ok {
			return
		}
		if _, ok := f.Annotations[cobra.BashCompFilenameExt]; ok {
			return
		}
		if name, _ := pflag.UnquoteUsage(f); strings.Contains(name, "FILE") || strings.Contains(name, "PATH") {
			f.Annotations = withKey(f.Annotations, cobra.BashCompFilenameExt)
			return
		}
		cmd.RegisterFlagCompletionFunc(f.Name, cobra.NoFileCompletions)
	}
	cmd.PersistentFlags().VisitAll(each)
	cmd.Flags().VisitAll(each)
	for _, sub := range cmd.Commands() {
		completeRest(sub)
	}
}

// withKey returns m, made if nil, with key set to no values.
func withKey(m map[string][]string, key string) map[string][]string {
	if m == nil {
		m = map[string][]string{}
	}
	m[key] = []string{}
	return m
}
