package mathgrade

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	// Commands that only change how a formula looks.
	spacingReplacer = strings.NewReplacer(
		`\\`, `\\`, // a matrix row break: keep it whole so "\\ " is not read as "\ "
		`\displaystyle`, " ", `\textstyle`, " ",
		`\qquad`, " ", `\quad`, " ", `\,`, " ", `\;`, " ", `\:`, " ", `\ `, " ", `\!`, "",
		`\left.`, "", `\right.`, "", `\left`, "", `\right`, "", `\bigl`, "", `\bigr`, "", `\Bigl`, "", `\Bigr`, "",
		`\dfrac`, `\frac`, `\tfrac`, `\frac`, `\cfrac`, `\frac`,
		`\dbinom`, `\binom`, `\tbinom`, `\binom`,
		`\leq`, `\le`, `\geq`, `\ge`, `\neq`, `\ne`,
		`\lbrace`, `\{`, `\rbrace`, `\}`,
		`\%`, "%", `\$`, "", "$", "",
		`\(`, "", `\)`, "", `\[`, "", `\]`, "",
		"°", "", `^{\circ}`, "", `^\circ`, "", `\circ`, "", `\degree`, "",
		"−", "-", "×", `\times`, "·", `\cdot`, "÷", `\div`, "π", `\pi`, "∞", `\infty`, "√", `\sqrt`,
		"\u00a0", " ", "\t", " ", "\n", " ", "\r", " ",
		"**", "", "__", "",
		`{,}`, ",",
	)
	// \text{…} and friends: keep the content.
	textCmdRE = regexp.MustCompile(`\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}`)
	// LaTeX's "10,\!080" thousands spacing; applied before \! is dropped.
	latexThousandsRE = regexp.MustCompile(`(\d),\\!\s*`)
	// A whole answer that is a number with comma thousands separators, only
	// in groups of three ("1,234,567"; "1,23" or "3, 5" are lists).
	thousandsRE = regexp.MustCompile(`^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?$`)
	// Words and prefixes that carry no value.
	percentWordRE = regexp.MustCompile(`(?i)\s*\bper\s*cent\b|\s*\bpercent(?:age)?\b`)
	inPrefixRE    = regexp.MustCompile(`^[a-zA-Z]\s*\\in\s*`)
	wordRE        = regexp.MustCompile(`[A-Za-z]+`)
	spaceRunRE    = regexp.MustCompile(`\s+`)
	// A single-character script argument in braces: x^{2} -> x^2, 4210_{5} -> 4210_5.
	scriptBraceRE = regexp.MustCompile(`([_^])\{(\w)\}`)
)

// unitWords are removed from an answer when they appear as whole words
// (never inside another word, so \sin and "inches" are safe from "in").
// One-letter units (m, s, g) are kept: they are indistinguishable from
// variables.
var unitWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
		dollar dollars cent cents usd euro euros pound pounds
		unit units sq square cubic meter meters metre metres cm centimeter centimeters mm km kilometer kilometers
		inch inches ft foot feet yard yards mile miles mph kmh
		second seconds sec secs minute minutes min mins hour hours hr hrs day days week weeks month months year years
		gram grams kg kilogram kilograms lb lbs ounce ounces oz liter liters litre litres ml gallon gallons
		degree degrees radian radians
		people person persons student students apple apples book books page pages
		point points times item items piece pieces ticket tickets box boxes bag bags egg eggs cookie cookies
		candy candies marble marbles toy toys car cars
	`) {
		unitWords[w] = true
	}
}

// Normalize returns the canonical form of a LaTeX or plain-text answer that
// Equal compares: delimiters ($, \(, \[) and \left/\right dropped,
// \dfrac/\tfrac written \frac with braced arguments (\frac12 -> \frac{1}{2}),
// \text{} unwrapped, spacing commands and Markdown emphasis removed, comma
// thousands separators removed from a whole number ("1,234,567", only in
// groups of three), percent written "%", degree marks dropped, unit words
// removed when they are whole words, a leading "x \in" dropped, trailing
// periods removed and spaces collapsed. It never fails: text it does not
// understand is returned trimmed.
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	s = latexThousandsRE.ReplaceAllString(s, "$1,")
	// \text{} may nest once (\text{\textbf{B}}); two passes cover real outputs.
	for i := 0; i < 2 && strings.Contains(s, `\`); i++ {
		s = textCmdRE.ReplaceAllString(s, "$1")
	}
	s = spacingReplacer.Replace(s)
	s = percentWordRE.ReplaceAllString(s, "%")
	s = spaceRunRE.ReplaceAllString(strings.TrimSpace(s), " ")
	s = strings.TrimRight(s, " .")
	s = strings.TrimLeft(s, " ")
	s = inPrefixRE.ReplaceAllString(s, "")
	s = stripUnits(s)
	s = bracedArgs(s)
	s = scriptBraceRE.ReplaceAllString(s, "$1$2")
	s = strings.TrimSpace(s)
	if thousandsRE.MatchString(s) {
		s = strings.ReplaceAll(s, ",", "")
	}
	return strings.TrimRight(s, " .")
}

// stripUnits removes whole-word units ("18 dollars", "5.4 cents", "3 cm")
// that follow something else; an answer that is only a word is kept.
func stripUnits(s string) string {
	if !strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
		return s
	}
	locs := wordRE.FindAllStringIndex(s, -1)
	var b strings.Builder
	last := 0
	removed := false
	for _, l := range locs {
		w := strings.ToLower(s[l[0]:l[1]])
		if !unitWords[w] || (l[0] > 0 && s[l[0]-1] == '\\') {
			continue
		}
		b.WriteString(s[last:l[0]])
		last = l[1]
		removed = true
	}
	if !removed {
		return s
	}
	b.WriteString(s[last:])
	out := strings.TrimSpace(spaceRunRE.ReplaceAllString(b.String(), " "))
	out = strings.TrimRight(out, " .")
	if out == "" || strings.Trim(out, "^/ ") == "" {
		return s // the answer was only a word: keep it
	}
	return strings.TrimRight(out, " ^/")
}

// bracedArgs rewrites \frac, \sqrt and \binom so every argument is braced:
// "\frac 34" and "\frac34" become "\frac{3}{4}", "\frac9{19}" becomes
// "\frac{9}{19}", "\sqrt2" becomes "\sqrt{2}". Unbraced arguments are one
// character, as in TeX.
func bracedArgs(s string) string {
	if !strings.Contains(s, `\frac`) && !strings.Contains(s, `\sqrt`) && !strings.Contains(s, `\binom`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		cmd, nargs := "", 0
		switch {
		case strings.HasPrefix(s[i:], `\frac`):
			cmd, nargs = `\frac`, 2
		case strings.HasPrefix(s[i:], `\binom`):
			cmd, nargs = `\binom`, 2
		case strings.HasPrefix(s[i:], `\sqrt`):
			cmd, nargs = `\sqrt`, 1
		}
		if cmd == "" || (i+len(cmd) < len(s) && isLetter(s[i+len(cmd)])) {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(cmd)
		i += len(cmd)
		if cmd == `\sqrt` && i < len(s) && s[i] == '[' { // \sqrt[3]{x}: copy the index
			if j := strings.IndexByte(s[i:], ']'); j >= 0 {
				b.WriteString(s[i : i+j+1])
				i += j + 1
			}
		}
		for a := 0; a < nargs; a++ {
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i >= len(s) {
				break
			}
			if s[i] == '{' {
				if g, ok := braceGroup(s, i); ok {
					b.WriteString("{" + bracedArgs(g) + "}")
					i += len(g) + 2
					continue
				}
				break
			}
			if s[i] == '\\' { // a command argument such as \frac\pi2
				j := i + 1
				for j < len(s) && isLetter(s[j]) {
					j++
				}
				b.WriteString("{" + s[i:j] + "}")
				i = j
				continue
			}
			_, w := utf8.DecodeRuneInString(s[i:]) // one character, not one byte
			b.WriteString("{" + s[i:i+w] + "}")
			i += w
		}
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// key is the form used for a plain string comparison: the normal form with
// all spaces removed except between a command name and a letter, folded to
// lower case when the answer is text.
func key(n string) string {
	var b strings.Builder
	for i := 0; i < len(n); i++ {
		if n[i] == ' ' {
			// keep "\cot x" apart from "\cotx"
			if i > 0 && isLetter(n[i-1]) && i+1 < len(n) && isLetter(n[i+1]) && cmdBefore(n, i) {
				b.WriteByte(' ')
			}
			continue
		}
		b.WriteByte(n[i])
	}
	return b.String()
}

// cmdBefore reports whether the letters ending at n[i-1] are a command name.
func cmdBefore(n string, i int) bool {
	j := i - 1
	for j >= 0 && isLetter(n[j]) {
		j--
	}
	return j >= 0 && n[j] == '\\'
}
