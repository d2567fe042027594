package ciout_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/wmss/wmss/evaluators/ciout"
	"github.com/wmss/wmss/evaluators/paired"
)

// node is a parsed XML element, kept generic so the check below reads the
// document as a CI system would, not through the writer's own types.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string
}

func parseXML(t *testing.T, data []byte) *node {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		t.Errorf("junit.xml lacks the XML declaration")
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("junit.xml is not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					t.Fatal("junit.xml has two root elements")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	return root
}

var decimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// checkJUnit checks a document against the JUnit format that Jenkins,
// GitLab and the GitHub Actions reporters read (the Ant JUnit task's
// format: windyroad JUnit.xsd, Jenkins junit-10.xsd) and returns its
// testcases. Rules: root <testsuites>; each <testsuite> has name, tests,
// failures, errors, skipped, time, timestamp (ISO 8601 without zone) and
// hostname, and children in the order properties?, testcase*, system-out?,
// system-err?; each <testcase> has name, classname and a decimal time, and
// at most one of failure/error/skipped, before its system-out; failure
// and error carry message and type; the counts on every level equal the
// elements present.
func checkJUnit(t *testing.T, data []byte) []*node {
	t.Helper()
	root := parseXML(t, data)
	if root == nil || root.name != "testsuites" {
		t.Fatalf("root element %v, want testsuites", root)
	}
	atoi := func(n *node, attr string) int {
		v, ok := n.attrs[attr]
		if !ok {
			t.Errorf("<%s name=%q> lacks %s", n.name, n.attrs["name"], attr)
			return -1
		}
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			t.Errorf("<%s> %s=%q is not a count", n.name, attr, v)
		}
		return i
	}
	checkTime := func(n *node) {
		if v, ok := n.attrs["time"]; !ok || !decimal.MatchString(v) {
			t.Errorf("<%s name=%q> time=%q, want a decimal number of seconds", n.name, n.attrs["name"], v)
		}
	}
	var cases []*node
	tot := map[string]int{}
	for _, s := range root.children {
		if s.name != "testsuite" {
			t.Errorf("<testsuites> child <%s>, want testsuite", s.name)
			continue
		}
		if s.attrs["name"] == "" || s.attrs["hostname"] == "" {
			t.Errorf("testsuite lacks name or hostname: %v", s.attrs)
		}
		if _, err := strconv.ParseFloat(s.attrs["time"], 64); err != nil {
			t.Errorf("testsuite time %q", s.attrs["time"])
		}
		checkTime(s)
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$`).MatchString(s.attrs["timestamp"]) {
			t.Errorf("testsuite timestamp %q, want ISO 8601 without zone", s.attrs["timestamp"])
		}
		order := map[string]int{"properties": 0, "testcase": 1, "system-out": 2, "system-err": 3}
		last := -1
		got := map[string]int{}
		for _, c := range s.children {
			o, ok := order[c.name]
			if !ok || o < last {
				t.Errorf("testsuite child <%s> out of order or not allowed", c.name)
			}
			last = o
			switch c.name {
			case "properties":
				for _, p := range c.children {
					if _, ok := p.attrs["value"]; p.name != "property" || p.attrs["name"] == "" || !ok {
						t.Errorf("bad property %+v", p)
					}
				}
			case "testcase":
				cases = append(cases, c)
				got["tests"]++
				if c.attrs["name"] == "" || c.attrs["classname"] == "" {
					t.Errorf("testcase lacks name or classname: %v", c.attrs)
				}
				checkTime(c)
				outcomes := 0
				seenOut := false
				for _, e := range c.children {
					switch e.name {
					case "failure", "error", "skipped":
						outcomes++
						if seenOut {
							t.Errorf("testcase %s: <%s> after <system-out>", c.attrs["name"], e.name)
						}
						if e.name != "skipped" {
							if e.attrs["message"] == "" || e.attrs["type"] == "" {
								t.Errorf("testcase %s: <%s> lacks message or type", c.attrs["name"], e.name)
							}
							got[map[string]string{"failure": "failures", "error": "errors"}[e.name]]++
						} else {
							got["skipped"]++
						}
					case "system-out", "system-err":
						seenOut = true
					default:
						t.Errorf("testcase child <%s> not allowed", e.name)
					}
				}
				if outcomes > 1 {
					t.Errorf("testcase %s has %d outcome elements, want at most 1", c.attrs["name"], outcomes)
				}
			}
		}
		for _, k := range []string{"tests", "failures", "errors", "skipped"} {
			if n := atoi(s, k); n != got[k] {
				t.Errorf("testsuite %s=%d, but %d present", k, n, got[k])
			}
			tot[k] += got[k]
		}
	}
	for _, k := range []string{"tests", "failures", "errors", "skipped"} {
		if n := atoi(root, k); n != tot[k] {
			t.Errorf("testsuites %s=%d, but %d present", k, n, tot[k])
		}
	}
	return cases
}

func child(n *node, name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func TestWriteJUnit(t *testing.T) {
	base, baseItems := run(t, bench{name: "svamp", n: 200, pass: below(120)})
	r, items := run(t,
		bench{name: "gsm8k", n: 20, pass: below(4)},                                        // fails --min 0.35
		bench{name: "svamp", n: 200, pass: func(i int) bool { return i >= 30 && i < 120 }}, // fails the baseline
		bench{name: "math500", n: 10, pass: below(5)},                                      // passes
		bench{name: "aqua", n: 0, errs: 4},                                                 // nothing scored
	)
	mins, _ := ciout.ParseMin("gsm8k=0.35,math500=0.5")
	ciout.ApplyMin(r, mins)
	if err := ciout.ApplyBaseline(r, items, base, baseItems, "base/results.json", paired.Options{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := ciout.WriteJUnit(dir, r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ciout.JUnitFile))
	if err != nil {
		t.Fatal(err)
	}
	cases := checkJUnit(t, data)
	if len(cases) != 4 {
		t.Fatalf("%d testcases, want 4:\n%s", len(cases), data)
	}
	byName := map[string]*node{}
	for _, c := range cases {
		byName[c.attrs["name"]] = c
		if c.attrs["classname"] != ciout.JUnitSuiteName || c.attrs["time"] != "1.250" {
			t.Errorf("testcase %v", c.attrs)
		}
	}
	for name, want := range map[string]string{"gsm8k": "failure", "svamp": "failure", "math500": "", "aqua": "error"} {
		c := byName[name]
		if c == nil {
			t.Errorf("no testcase %s", name)
			continue
		}
		f, e := child(c, "failure"), child(c, "error")
		switch want {
		case "failure":
			if f == nil || e != nil {
				t.Errorf("%s: want a failure, got %+v", name, c.children)
			}
		case "error":
			if e == nil || f != nil || !strings.Contains(e.attrs["message"], "no sample could be scored") {
				t.Errorf("%s: want an error, got %+v", name, c.children)
			}
		default:
			if f != nil || e != nil {
				t.Errorf("%s: want a pass, got %+v", name, c.children)
			}
		}
		if out := child(c, "system-out"); out == nil || !strings.Contains(out.text, "score (mean@1)") {
			t.Errorf("%s: system-out lacks the score", name)
		}
	}
	if f := child(byName["gsm8k"], "failure"); f != nil && (f.attrs["type"] != "min" || !strings.Contains(f.attrs["message"], "0.2000 is below the minimum 0.35")) {
		t.Errorf("gsm8k failure %v", f.attrs)
	}
	if f := child(byName["svamp"], "failure"); f != nil && (f.attrs["type"] != "baseline" || !strings.Contains(f.attrs["message"], "significant drop")) {
		t.Errorf("svamp failure %v", f.attrs)
	}
	if out := child(byName["math500"], "system-out").text; !strings.Contains(out, "gate min passed") || !strings.Contains(out, "gate baseline skipped") {
		t.Errorf("math500 system-out:\n%s", out)
	}
	suite := parseXML(t, data).children[0]
	if got := strings.Join([]string{suite.attrs["tests"], suite.attrs["failures"], suite.attrs["errors"], suite.attrs["skipped"]}, " "); got != "4 2 1 0" {
		t.Errorf("suite counts %s, want 4 2 1 0", got)
	}
	props := map[string]string{}
	for _, p := range child(suite, "properties").children {
		props[p.attrs["name"]] = p.attrs["value"]
	}
	if props["model_hash"] != "abc123" || props["code_version"] != "v-test" || props["seed"] != "3" {
		t.Errorf("properties %v", props)
	}
}
