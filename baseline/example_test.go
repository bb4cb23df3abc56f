package baseline_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/portscan/portscan/baseline"
)

func ExampleCompare() {
	old := `{"type":"scan","scanner":"portscan","ports":"1-1024","protocols":["tcp"]}
{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","service":"ssh"}
{"type":"port","host":"198.18.0.1","port":80,"protocol":"tcp","state":"open","service":"http"}
`
	new := `{"type":"scan","scanner":"portscan","ports":"1-1024","protocols":["tcp"]}
{"type":"port","host":"198.18.0.1","port":22,"protocol":"tcp","state":"open","service":"ssh"}
{"type":"port","host":"198.18.0.1","port":443,"protocol":"tcp","state":"open","service":"https"}
{"type":"host","host":"198.18.0.1","up":true,"counts":{"open":2,"closed":1022}}
`
	a, err := baseline.Read("monday.jsonl", strings.NewReader(old), baseline.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := baseline.Read("tuesday.jsonl", strings.NewReader(new), baseline.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	baseline.Compare(a, b, baseline.CompareOptions{}).WriteText(os.Stdout, false)
	// Output:
	// Differences from monday.jsonl to tuesday.jsonl:
	//   - 198.18.0.1 80/tcp no longer open (http), now closed
	//   + 198.18.0.1 443/tcp newly open (https), was not listed
	// 2 differences: 1 port opened, 1 port closed.
}
