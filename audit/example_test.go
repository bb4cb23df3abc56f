package audit_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/portscan/portscan/audit"
	"github.com/portscan/portscan/baseline"
	"github.com/portscan/portscan/result"
	"github.com/portscan/portscan/services"
)

func ExampleParse() {
	policy := `groups:
  - name: web
    targets: [198.18.0.1-5]
    allwo: [ssh, http]
`
	_, err := audit.Parse("policy.yaml", []byte(policy), audit.Options{Lookup: services.Default().Ports})
	fmt.Println(err)
	// Output:
	// policy.yaml:4:5: unknown key "allwo" in group "web"; expected one of name, description, targets, exclude, allow, require, deny, other, services, deny_services, tls
}

func ExampleJudge() {
	policy := `groups:
  - name: web
    targets: [198.18.0.1-5]
    allow: [ssh, http, 443/tcp, 8000-8100]
    require: [https]
    deny: [mysql, 23]
    other: deny
`
	results := `{"type":"scan","scanner":"portscan","scan_type":"connect","protocols":["tcp"],"ports":"1-1024,3306"}
{"type":"port","host":"198.18.0.1","port":443,"protocol":"tcp","state":"open","service":"https"}
{"type":"port","host":"198.18.0.1","port":3306,"protocol":"tcp","state":"open","service":"mysql"}
{"type":"host","host":"198.18.0.1","up":true}
{"type":"port","host":"198.18.0.2","port":22,"protocol":"tcp","state":"open","service":"ssh"}
{"type":"host","host":"198.18.0.2","up":true}
`
	pol, err := audit.Parse("policy.yaml", []byte(policy), audit.Options{Lookup: services.Default().Ports})
	if err != nil {
		fmt.Println(err)
		return
	}
	run, err := baseline.Read("results.jsonl", strings.NewReader(results), baseline.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := audit.Judge(context.Background(), pol, run)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep.WriteGitHubAnnotations(os.Stdout)
	fmt.Println(rep.Failed())
	// Output:
	// ::error file=policy.yaml,line=6,col=12,title=portscan audit%3A web deny mysql::198.18.0.1: denied port "mysql" open: 3306/tcp (mysql)
	// ::error file=policy.yaml,line=5,col=15,title=portscan audit%3A web require https::198.18.0.2: required port "https" not open: 443/tcp not open
	// true
}

// MatchService tells HTTP in the clear from HTTP inside TLS, as a
// services or deny_services rule does.
func ExampleMatchService() {
	https := &result.Service{Name: "http", Tunnel: "ssl", Product: "nginx"}
	for _, name := range []string{"http", "https", "ssl/http", "HTTPS"} {
		fmt.Println(name, audit.MatchService(name, https))
	}
	// Output:
	// http false
	// https true
	// ssl/http true
	// HTTPS true
}
