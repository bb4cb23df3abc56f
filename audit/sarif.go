package audit

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// SARIFSchema is the schema URI a SARIF 2.1.0 log names.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// The rules of the SARIF log: one per kind of check, and one for
// differences from a baseline.
var sarifRules = []struct {
	kind       Kind
	id, name   string
	short, doc string
}{
	{Require, "required-port-missing", "RequiredPortMissing", "A port the policy requires is not open.",
		"A require rule of the policy names this port for the host's group, and the results do not show it open: the service is down, firewalled, or moved."},
	{Deny, "denied-port-open", "DeniedPortOpen", "A port the policy denies is open.",
		"A deny rule of the policy names this port for the host's group, and the results show it open: stop the service or block the port."},
	{Other, "unexpected-port-open", "UnexpectedPortOpen", "An open port is not allowed by the policy.",
		"No allow, require or deny rule of the host's group names this open port: allow it in the policy, or close it."},
	{0, "changed-since-baseline", "ChangedSinceBaseline", "The open ports differ from the baseline run.",
		"Compared with the saved baseline run, a port opened or closed, a host appeared or went away, a service label changed, or service detection found another service or version."},
	// After the baseline rule, so that the rules that came first keep
	// their indexes.
	{Service, "service-mismatch", "ServiceMismatch", "An open port does not speak the service the policy names for it.",
		"A services entry of the host's group names the service this port must speak, and service detection found another there: the wrong program listens, or it was moved."},
	{DenyService, "service-denied", "ServiceDenied", "A service the policy denies was detected.",
		"A deny_services entry of the host's group names this service, and service detection found it on an open port: stop it, or block the port."},
	{TLSVersion, "tls-version", "TLSVersion", "A TLS service negotiated a version below the policy's minimum.",
		"The tls min_version of the host's group is higher than the version the TLS handshake negotiated, which is the highest the server offers: upgrade or reconfigure it."},
	{TLSExpiry, "tls-expiry", "TLSExpiry", "A TLS certificate expires soon, or has expired.",
		"The certificate this port presented expires within the tls expires_within window of the host's group, or has already expired: renew it."},
	{TLSSelfSigned, "tls-self-signed", "TLSSelfSigned", "A TLS service presents a self-signed certificate.",
		"The tls self_signed setting of the host's group is deny or warn, and this port presented a certificate signed by its own key: use one a trusted authority issued."},
}

type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name    string      `json:"name"`
		Version string      `json:"version,omitempty"`
		Rules   []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID               string      `json:"id"`
		Name             string      `json:"name"`
		ShortDescription sarifText   `json:"shortDescription"`
		FullDescription  sarifText   `json:"fullDescription"`
		Default          sarifConfig `json:"defaultConfiguration"`
	}
	sarifConfig struct {
		Level string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool   `json:"executionSuccessful"`
		EndTimeUtc          string `json:"endTimeUtc,omitempty"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifText         `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Properties          map[string]any    `json:"properties,omitempty"`
	}
	sarifLocation struct {
		Physical *sarifPhysical `json:"physicalLocation,omitempty"`
		Logical  []sarifLogical `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		Artifact sarifArtifact `json:"artifactLocation"`
		Region   *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
	}
	sarifLogical struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
)

// artifactURI turns a file name into a SARIF artifact URI: relative
// paths stay relative (to the repository root, for code scanning).
func artifactURI(path string) string {
	p := filepath.ToSlash(path)
	if filepath.IsAbs(path) {
		return "file://" + p
	}
	return strings.TrimPrefix(p, "./")
}

// WriteSARIF writes the violations and warnings as a SARIF 2.1.0 log, for
// GitHub code scanning and other SARIF viewers: one result per failed
// check (level error) or warned check (level warning), located at the
// rule's line in the policy file, with the host as a logical location.
// Differences from a baseline are results too, located at the baseline
// file.
func (r *Report) WriteSARIF(w io.Writer) error {
	driver := sarifDriver{Name: "portscan", Version: r.Version}
	index := map[Kind]int{}
	for i, rule := range sarifRules {
		index[rule.kind] = i
		driver.Rules = append(driver.Rules, sarifRule{ID: rule.id, Name: rule.name,
			ShortDescription: sarifText{rule.short}, FullDescription: sarifText{rule.doc}, Default: sarifConfig{"error"}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	inv := sarifInvocation{ExecutionSuccessful: true}
	if !r.Time.IsZero() {
		inv.EndTimeUtc = r.Time.UTC().Format(time.RFC3339)
	}
	run.Invocations = []sarifInvocation{inv}
	policy := artifactURI(r.Policy)
	for _, c := range r.Checks() {
		if c.Status != Failed && c.Status != Warned {
			continue
		}
		level := "error"
		if c.Status == Warned {
			level = "warning"
		}
		i := index[c.Rule]
		host := c.Host.String()
		res := sarifResult{
			RuleID: sarifRules[i].id, RuleIndex: i, Level: level,
			Message: sarifText{c.HostLabel() + " in group " + c.Group + ": " + c.Message},
			Locations: []sarifLocation{{
				Physical: &sarifPhysical{Artifact: sarifArtifact{policy}, Region: &sarifRegion{c.Pos.Line, c.Pos.Col}},
				Logical:  []sarifLogical{{Name: host, FullyQualifiedName: c.Group + "/" + host, Kind: "host"}},
			}},
			PartialFingerprints: map[string]string{"portscanCheck/v1": strings.Join([]string{c.Group, host, c.Rule.String(), c.Entry}, "|")},
			Properties:          map[string]any{"group": c.Group, "host": host, "ports": c.Findings},
		}
		run.Results = append(run.Results, res)
	}
	if r.Diff != nil {
		i := index[0]
		for _, c := range r.Diff.Changes {
			host := c.Host.String()
			res := sarifResult{
				RuleID: sarifRules[i].id, RuleIndex: i, Level: "error",
				Message: sarifText{c.Line()},
				Locations: []sarifLocation{{
					Physical: &sarifPhysical{Artifact: sarifArtifact{artifactURI(r.Diff.Old)}},
					Logical:  []sarifLogical{{Name: host, FullyQualifiedName: "baseline/" + host, Kind: "host"}},
				}},
				PartialFingerprints: map[string]string{"portscanChange/v1": strings.Join([]string{c.Kind.String(), host, c.Port.String()}, "|")},
			}
			run.Results = append(run.Results, res)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}
