package mathgrade

import (
	"regexp"
	"strings"
)

// Source says where in a model output an extracted answer was found.
type Source string

// Sources, in the order Extract tries them.
const (
	SourceBoxed      Source = "boxed"       // the last \boxed{…} or \fbox{…}
	SourcePhrase     Source = "phrase"      // after "final answer" / "the answer is"
	SourceHash       Source = "hash"        // after GSM8K's "####"
	SourceLastNumber Source = "last_number" // the last number in the text
	SourceChoice     Source = "choice"      // a multiple-choice letter (A–E)
)

// Mode selects which extraction rules Extract may use.
type Mode int

// Modes. GSM8K reports Strict and Flexible accuracy separately (scoring case
// B01): strict counts only answers the model marked (boxed, phrase, ####),
// flexible takes the last number, like lm-evaluation-harness's two filters.
const (
	ModeCascade  Mode = iota // boxed, phrase, ####, then the last number
	ModeStrict               // boxed, phrase, #### only
	ModeFlexible             // the last number only
)

// Extraction is an answer found in a model output: Answer is the raw text
// (not yet normalised) and Source says which rule found it.
type Extraction struct {
	Answer string
	Source Source
}

var (
	// Phrases that introduce a final answer; the last match wins.
	phraseRE = regexp.MustCompile(`(?i)(?:final\s+answer(?:\s+is)?|the\s+(?:correct\s+)?answer\s+is|answer\s*(?:is)?\s*:)\s*:?`)
	// A number starts and ends with a digit (B02): a lone "," or "." is never
	// a number. Commas only group digits in threes; a simple fraction a/b
	// counts as one number.
	numberRE = regexp.MustCompile(`(?:^|[^\w.])(-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?)`)
	// Inline math inside a phrase answer.
	inlineMathRE = regexp.MustCompile(`\$([^$]+)\$|\\\((.+?)\\\)`)
	// Multiple-choice letters: "(C)" anywhere, or a bare letter answer.
	choiceParenRE = regexp.MustCompile(`\(([A-E])\)`)
	choiceLeadRE  = regexp.MustCompile(`^\(?([A-Ea-e])(?:\)|[^A-Za-z]|$)`)
)

// stripEmphasis removes Markdown bold and underline markers ("**", "__"),
// which otherwise glue onto numbers (scoring case B08).
func stripEmphasis(s string) string {
	if strings.Contains(s, "**") {
		s = strings.ReplaceAll(s, "**", "")
	}
	if strings.Contains(s, "__") {
		s = strings.ReplaceAll(s, "__", "")
	}
	return s
}

// Extract returns the final answer in a model output, trying, in order: the
// last \boxed{…}/\fbox{…} with balanced braces, the text after the last
// "final answer" / "the answer is" phrase, the text after GSM8K's last
// "####", and the last number. mode limits the rules (see Mode). ok is false
// when no rule finds an answer.
func Extract(output string, mode Mode) (e Extraction, ok bool) {
	s := stripEmphasis(output)
	if mode != ModeFlexible {
		if b, ok := LastBoxed(s); ok {
			return Extraction{b, SourceBoxed}, true
		}
		if p, ok := afterPhrase(s); ok {
			return Extraction{p, SourcePhrase}, true
		}
		if h, ok := afterHash(s); ok {
			return Extraction{h, SourceHash}, true
		}
		if mode == ModeStrict {
			return Extraction{}, false
		}
	}
	if n, ok := LastNumber(s); ok {
		return Extraction{n, SourceLastNumber}, true
	}
	return Extraction{}, false
}

// ExtractChoice returns the multiple-choice letter (A–E, upper case) that a
// model output picks: the leading letter of the last \boxed{} (after
// unwrapping \text{} and parentheses, so "\boxed{\text{(B)}}" and
// "\boxed{B: 14 cm}" give B, scoring case B09), else the letter after the last
// answer phrase, else the last "(X)", else a bare one-letter output.
func ExtractChoice(output string) (Extraction, bool) {
	s := stripEmphasis(output)
	if b, ok := LastBoxed(s); ok {
		if l, ok := leadingLetter(b); ok {
			return Extraction{l, SourceBoxed}, true
		}
	}
	if p, ok := afterPhrase(s); ok {
		if l, ok := leadingLetter(p); ok {
			return Extraction{l, SourcePhrase}, true
		}
	}
	if m := choiceParenRE.FindAllStringSubmatch(s, -1); m != nil {
		return Extraction{m[len(m)-1][1], SourceChoice}, true
	}
	if l, ok := leadingLetter(s); ok && len(strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "().$"))) == 1 {
		return Extraction{l, SourceChoice}, true
	}
	return Extraction{}, false
}

// leadingLetter returns the choice letter a short answer starts with, after
// unwrapping \text{}, $ and spaces and optional words "option"/"choice".
func leadingLetter(s string) (string, bool) {
	t := Normalize(s)
	t = strings.TrimSpace(t)
	low := strings.ToLower(t)
	for _, w := range []string{"option", "choice"} {
		if strings.HasPrefix(low, w) {
			t = strings.TrimSpace(t[len(w):])
			break
		}
	}
	m := choiceLeadRE.FindStringSubmatch(t)
	if m == nil {
		return "", false
	}
	return strings.ToUpper(m[1]), true
}

// LastBoxed returns the argument of the last \boxed{…} or \fbox{…} in s whose
// braces balance (scoring cases B04–B06). A "\boxed" not followed by "{", as
// in prose that mentions the command, is skipped.
func LastBoxed(s string) (string, bool) {
	end := len(s)
	for end > 0 {
		i := strings.LastIndex(s[:end], `\boxed`)
		j := strings.LastIndex(s[:end], `\fbox`)
		k, n := i, len(`\boxed`)
		if j > i {
			k, n = j, len(`\fbox`)
		}
		if k < 0 {
			return "", false
		}
		if arg, ok := braceGroup(s, k+n); ok {
			return strings.TrimSpace(arg), true
		}
		end = k
	}
	return "", false
}

// braceGroup returns the content of the brace group that starts at s[i]
// (after optional spaces), with nested braces balanced; ok is false when
// s[i:] does not start with "{" or the group never closes.
func braceGroup(s string, i int) (string, bool) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) || s[i] != '{' {
		return "", false
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++ // skip the escaped character, e.g. \{ or \}
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return s[i+1 : j], true
			}
		}
	}
	return "", false
}

// afterPhrase returns the answer after the last final-answer phrase: the
// rest of its line up to a sentence end, or the last inline math in it.
func afterPhrase(s string) (string, bool) {
	locs := phraseRE.FindAllStringIndex(s, -1)
	if locs == nil {
		return "", false
	}
	rest := s[locs[len(locs)-1][1]:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i]
	}
	if m := inlineMathRE.FindAllStringSubmatch(rest, -1); m != nil {
		last := m[len(m)-1]
		if last[1] != "" {
			return strings.TrimSpace(last[1]), true
		}
		return strings.TrimSpace(last[2]), true
	}
	rest = cutSentence(rest)
	rest = strings.TrimRight(strings.TrimSpace(rest), ".")
	if rest == "" {
		return "", false
	}
	// "The answer is that she makes 18 dollars": prose words left after
	// units are removed mean the answer is the number inside the prose.
	if proseRE.MatchString(Normalize(rest)) {
		if n, ok := LastNumber(rest); ok {
			return n, true
		}
	}
	return rest, true
}

// proseRE matches a word of three or more letters that is not a LaTeX
// command (a command's letters follow a backslash).
var proseRE = regexp.MustCompile(`(?:^|[^\\A-Za-z])[A-Za-z]{3,}`)

// cutSentence cuts s at the first period followed by a space (a sentence
// end), keeping decimal points such as "3.5".
func cutSentence(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && (s[i+1] == ' ' || s[i+1] == '\t') {
			return s[:i]
		}
	}
	return s
}

// afterHash returns the rest of the line after GSM8K's last "####".
func afterHash(s string) (string, bool) {
	i := strings.LastIndex(s, "####")
	if i < 0 {
		return "", false
	}
	rest := s[i+4:]
	if j := strings.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}

// LastNumber returns the last number in s. A number starts and ends with a
// digit, may have a leading minus, groups thousands only in threes
// ("1,234,567") and may be a decimal or a simple fraction a/b (B02).
func LastNumber(s string) (string, bool) {
	m := numberRE.FindAllStringSubmatch(s, -1)
	if m == nil {
		return "", false
	}
	return m[len(m)-1][1], true
}
