package probes

import "testing"

func TestTemplate(t *testing.T) {
	groups := [][]byte{[]byte("whole"), []byte("1_2_3"), []byte("\x01\x02"), []byte("a\x00b\x7fc"), nil,
		[]byte("\xff\xfe"), []byte("caf\xc3\xa9"), []byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09")}
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"$1", "1_2_3"},
		{"v$1.", "v1_2_3."},
		{"$4 missing, $9 beyond", " missing,  beyond"},
		{"$0 and $x and $ and $", "$0 and $x and $ and $"},
		{"$P(3)", "abc"},
		{`$SUBST(1,"_",".")`, "1.2.3"},
		{`$SUBST(1, "_" , "")`, "123"},
		{`$SUBST(3,"\0","-")`, "a-b\x7fc"},
		{`$I(2,">")`, "258"},
		{`$I(2,"<")`, "513"},
		{`$I(7,">")`, ""},
		{`$I(4,">")`, ""},
		{"$5", `\xff\xfe`},
		{"$6", "café"},
		{`$P(1)$1`, "1_2_31_2_3"},
		{"$SUBST without parens", "$SUBST without parens"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			tm, err := parseTemplate(tc.in)
			if err != nil {
				t.Fatalf("parse: %v", err.msg)
			}
			if got := tm.expand(groups); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTemplateBounded(t *testing.T) {
	big := make([]byte, 1000)
	for i := range big {
		big[i] = 'x'
	}
	tm, _ := parseTemplate("$1$1")
	if got := tm.expand([][]byte{nil, big}); len(got) != maxField {
		t.Errorf("expanded to %d bytes, want %d", len(got), maxField)
	}
}

func TestTranslate(t *testing.T) {
	cases := []struct{ in, want string }{
		{`^abc$`, `^abc` + pcreEnd},
		{`a\Z`, `a` + pcreEnd},
		{`a\z`, `a\z`},
		{`\bx\B`, pcreBoundary + `x` + pcreInside},
		{`[$\b]$`, `[$\b]` + pcreEnd},
		{`[]$]`, `[]$]`},
		{`[^]$]`, `[^]$]`},
		{`[[:alpha:]$]$`, `[[:alpha:]$]` + pcreEnd},
		{`\$\\$`, `\$\\` + pcreEnd},
		{`\Qa$b\E$`, `\Qa$b\E` + pcreEnd},
		{`\Qa$`, `\Qa$`},
		{`(?#cost $5)$`, `(?#cost $5)` + pcreEnd},
		{`(?m)^a$`, `(?m)^a$`},
		{`\x24`, `\x24`},
		{`a\`, `a\`},
		{`[unclosed$`, `[unclosed$`},
	}
	for _, tc := range cases {
		if got := translate(tc.in); got != tc.want {
			t.Errorf("translate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
