package codeeval

import (
	"regexp"
	"strings"
)

// fence matches a Markdown code block: ```lang\n … ``` (the closing fence
// may be missing when the model was cut off).
var fence = regexp.MustCompile("(?s)```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\r?\n(.*?)(?:\n[ \t]*```|\\z)")

// Sanitize pulls the program out of a model's completion for the function
// entryPoint:
//
//  1. Code fences: when the text has Markdown code blocks (python, py,
//     python3 or no language), the first one that defines entryPoint is
//     used, else the longest. Without fences, leading prose lines before
//     the first line that looks like code are dropped.
//  2. Top-level statements are kept when they are imports, function or
//     class definitions (with their decorators) or assignments to a name;
//     everything else at the top level is dropped: prints, calls,
//     asserts, loops, `if __name__ == "__main__":` blocks, prose.
//     Indented lines before the first top-level statement (a body that
//     continues the prompt) are kept.
//
// Nested definitions stay inside their function; all top-level helpers
// are kept, whether or not entryPoint calls them (case B40: an entry point
// named f with a helper, followed by print(f(3))). Line ends become "\n".
func Sanitize(completion, entryPoint string) string {
	code := extractCode(strings.ReplaceAll(completion, "\r\n", "\n"), entryPoint)
	lead, stmts := splitStatements(code)
	var out []string
	if hasCode(lead) {
		out = append(out, lead) // an indented body continuing the prompt
	}
	var decorators []string
	for _, st := range stmts {
		head := strings.TrimSpace(st)
		switch {
		case strings.HasPrefix(head, "@"):
			decorators = append(decorators, st)
			continue
		case keyword(head, "def"), keyword(head, "class"), keyword(head, "async"):
			out = append(out, decorators...)
			out = append(out, st)
		case keyword(head, "import"), keyword(head, "from"):
			out = append(out, st)
		case isNameAssignment(head):
			out = append(out, st)
		}
		decorators = nil
	}
	return strings.TrimRight(strings.Join(out, ""), "\n") + "\n"
}

// keyword reports whether s starts with the word kw.
func keyword(s, kw string) bool {
	return strings.HasPrefix(s, kw) && (len(s) == len(kw) || s[len(kw)] == ' ' || s[len(kw)] == '\t' || s[len(kw)] == '(' || s[len(kw)] == ':')
}

var nameAssign = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*\s*(:[^=]+)?=[^=]`)

// isNameAssignment reports whether the statement assigns to plain names
// (MOD = 10**9 + 7, a, b = 1, 2, x: int = 3), not to attributes or items.
func isNameAssignment(s string) bool {
	return nameAssign.MatchString(s)
}

// defines reports whether code has a line "def name(" or "async def
// name(" (any indentation and spacing).
func defines(code, name string) bool {
	for _, l := range strings.Split(code, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "async"); ok && rest != l && (strings.HasPrefix(rest, " ") || strings.HasPrefix(rest, "\t")) {
			l = strings.TrimSpace(rest)
		}
		rest, ok := strings.CutPrefix(l, "def")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest, ok = strings.CutPrefix(strings.TrimSpace(rest), name)
		if ok && strings.HasPrefix(strings.TrimSpace(rest), "(") {
			return true
		}
	}
	return false
}

var codeStart = regexp.MustCompile(`(?m)^(def |async def |class |import |from |@|[ \t]+\S|[A-Za-z_][A-Za-z0-9_]*\s*=[^=])`)

// extractCode returns the code part of a completion.
func extractCode(text, entryPoint string) string {
	var blocks []string
	for _, m := range fence.FindAllStringSubmatch(text, -1) {
		switch strings.ToLower(m[1]) {
		case "", "python", "py", "python3":
			blocks = append(blocks, m[2])
		}
	}
	if len(blocks) > 0 {
		best := blocks[0]
		for _, b := range blocks {
			if defines(b, entryPoint) {
				return b
			}
			if len(b) > len(best) {
				best = b
			}
		}
		return best
	}
	if loc := codeStart.FindStringIndex(text); loc != nil {
		return text[loc[0]:]
	}
	return text
}

// hasCode reports whether s has a line that is neither blank nor a comment.
func hasCode(s string) bool {
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// splitStatements cuts Python source into top-level statements: each
// starts at a logical line with no indentation and runs to the next one
// (its indented body, blank lines and comments included). lead is what
// comes before the first statement (an indented body, or nothing). Strings, brackets and
// backslash continuations are followed so that their inner line breaks do
// not start statements; a single-quoted string ends at the line's end
// (as Python would reject it), so stray prose apostrophes stay local.
func splitStatements(src string) (lead string, stmts []string) {
	var starts []int
	depth := 0
	var quote string // "", `'`, `"`, `'''`, `"""`
	atLineStart := true
	continued := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if atLineStart {
			atLineStart = false
			if quote == "" && depth == 0 && !continued && c != ' ' && c != '\t' && c != '\n' && c != '#' {
				starts = append(starts, i)
			}
			continued = false
		}
		switch {
		case quote != "":
			switch {
			case c == '\\':
				i++ // skip the escaped character (also a line break)
			case c == '\n' && len(quote) == 1:
				quote = ""
				atLineStart = true
			case strings.HasPrefix(src[i:], quote):
				i += len(quote) - 1
				quote = ""
			case c == '\n':
				atLineStart = true
			}
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			atLineStart = true
		case c == '\'' || c == '"':
			q := string(c)
			if strings.HasPrefix(src[i:], q+q+q) {
				q = q + q + q
			}
			quote = q
			i += len(q) - 1
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			continued = true
			i++
			atLineStart = true
		case c == '\n':
			atLineStart = true
		}
	}
	first := len(src)
	if len(starts) > 0 {
		first = starts[0]
	}
	for k, s := range starts {
		end := len(src)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		stmts = append(stmts, src[s:end])
	}
	return src[:first], stmts
}
