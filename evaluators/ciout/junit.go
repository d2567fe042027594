package ciout

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// JUnit element and attribute layout, as read by Jenkins (junit plugin),
// GitLab (artifacts:reports:junit), Azure Pipelines and the GitHub Actions
// JUnit reporters: the Ant JUnit task's format, described by the
// windyroad JUnit.xsd and Jenkins' junit-10.xsd. A <testsuites> root holds
// one <testsuite> with name, tests, failures, errors, skipped, time,
// timestamp and hostname attributes, a <properties> list, the <testcase>
// elements (name, classname, time) and <system-out>/<system-err>. A
// testcase holds at most one <failure> or <error> (message and type
// attributes, details as text), then its own <system-out>.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Skipped  int          `xml:"skipped,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Timestamp  string          `xml:"timestamp,attr"`
		Hostname   string          `xml:"hostname,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
		SystemOut  junitText       `xml:"system-out"`
		SystemErr  junitText       `xml:"system-err"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string       `xml:"name,attr"`
		Classname string       `xml:"classname,attr"`
		Time      string       `xml:"time,attr"`
		Failure   *junitResult `xml:"failure,omitempty"`
		Error     *junitResult `xml:"error,omitempty"`
		SystemOut *junitText   `xml:"system-out,omitempty"`
	}
	// junitText is element text kept in a CDATA section, so that line
	// breaks stay readable in the file.
	junitText struct {
		Text string `xml:",cdata"`
	}
	junitResult struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",cdata"`
	}
)

// JUnitSuiteName is the name of the test suite in junit.xml and the
// classname of its testcases.
const JUnitSuiteName = "wmss.eval"

// WriteJUnit writes r as dir/junit.xml: one testcase per benchmark named
// after it, whose time is the benchmark's seconds and whose system-out
// holds the score, counts and gate messages. A benchmark with a failed
// gate gets one <failure> (type "min", "baseline" or "min,baseline",
// message the failed gates' messages); a benchmark where no sample could
// be scored (every verdict a grader or sandbox fault) gets an <error>
// instead. Nothing is skipped: a benchmark that ran is a test that ran.
func WriteJUnit(dir string, r *Results) error {
	host, _ := os.Hostname()
	suite := junitSuite{
		Name: JUnitSuiteName, Tests: len(r.Benchmarks), Time: seconds(r.Seconds),
		Timestamp: r.StartedAt.UTC().Format("2006-01-02T15:04:05"), Hostname: host,
		Properties: []junitProperty{
			{"model", r.Model}, {"model_hash", r.ModelHash}, {"code_version", r.CodeVersion},
			{"samples", strconv.Itoa(r.Generation.Samples)}, {"seed", strconv.FormatUint(r.Generation.Seed, 10)},
			{"temperature", strconv.FormatFloat(r.Generation.Temperature, 'g', -1, 64)},
			{"limit", strconv.Itoa(r.Generation.Limit)},
		},
	}
	if r.MathAverage != nil {
		suite.Properties = append(suite.Properties, junitProperty{"math_average", strconv.FormatFloat(*r.MathAverage, 'f', 6, 64)})
	}
	for _, b := range r.Benchmarks {
		c := junitCase{Name: b.Name, Classname: JUnitSuiteName, Time: seconds(b.Seconds)}
		var out strings.Builder
		fmt.Fprintf(&out, "score (mean@%d) %.6f: %d of %d scored samples correct, %d problems, %d scoring errors\n",
			b.Samples, b.Score, b.Correct, b.Scored, b.Problems, b.Errors)
		for _, k := range sortedKeys(b.PassAtK) {
			fmt.Fprintf(&out, "%s %.6f\n", k, b.PassAtK[k])
		}
		if b.Strict != nil && b.Flexible != nil {
			fmt.Fprintf(&out, "strict %.6f, flexible %.6f\n", *b.Strict, *b.Flexible)
		}
		fmt.Fprintf(&out, "dataset %s sha256 %s\n", b.DatasetFile, b.DatasetSHA256)
		var failed []Gate
		for _, g := range b.Gates {
			state := "passed"
			switch {
			case g.Skipped:
				state = "skipped"
			case !g.Passed:
				state = "FAILED"
				failed = append(failed, g)
			}
			fmt.Fprintf(&out, "gate %s %s: %s\n", g.Kind, state, g.Message)
		}
		c.SystemOut = &junitText{out.String()}
		switch {
		case b.Scored == 0 && b.Problems > 0:
			c.Error = &junitResult{Type: "scoring_error",
				Message: fmt.Sprintf("%s: no sample could be scored (%d grader or sandbox errors)", b.Name, b.Errors),
				Text:    out.String()}
			suite.Errors++
		case len(failed) > 0:
			var kinds, msgs []string
			for _, g := range failed {
				if !slices.Contains(kinds, g.Kind) {
					kinds = append(kinds, g.Kind)
				}
				msgs = append(msgs, g.Message)
			}
			c.Failure = &junitResult{Type: strings.Join(kinds, ","), Message: strings.Join(msgs, "; "), Text: out.String()}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	root := junitSuites{Name: JUnitSuiteName, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(root); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return writeFile(filepath.Join(dir, JUnitFile), buf.Bytes())
}

// seconds formats a duration in seconds as JUnit's time attribute: a
// decimal number, no exponent.
func seconds(s float64) string { return strconv.FormatFloat(max(s, 0), 'f', 3, 64) }

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// pass@k keys sort by k, not as strings (pass@10 after pass@2).
	num := func(k string) int { n, _ := strconv.Atoi(strings.TrimPrefix(k, "pass@")); return n }
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(num(a), num(b)) })
	return keys
}
