package mathgrade

import (
	"context"
	"math"
	"math/big"
	"regexp"
	"strings"
)

// kind is the shape of a parsed answer.
type kind int

const (
	kNum    kind = iota // one number or expression
	kTuple              // ordered, with its brackets: (a,b), [a,b), a vector
	kSet                // unordered: \{a,b\}, "a, b", a \pm b, A \cup B
	kMatrix             // \begin{pmatrix} … \end{pmatrix}
	kEq                 // lhs = rhs, held as lhs − rhs
)

// value is a parsed answer.
type value struct {
	kind        kind
	n           num     // kNum; kEq: lhs − rhs
	assign      *num    // kEq whose lhs is one variable ("x = 5"): the rhs
	open, close byte    // kTuple brackets
	elems       []value // kTuple, kSet, kMatrix (row-major)
	rows, cols  int     // kMatrix
}

var (
	// An integer written right before a fraction of integers is a mixed
	// number: "137 \frac{1}{2}" is 137½, not 137 · ½ (MATH's convention).
	mixedLatexRE = regexp.MustCompile(`(^|[^\d.^_}])(\d+) ?\\frac\{(\d+)\}\{(\d+)\}`)
	mixedPlainRE = regexp.MustCompile(`^(-?)(\d+) (\d+)/(\d+)$`)
	matrixRE     = regexp.MustCompile(`^\\begin\{[pbvBV]?matrix\}(.*)\\end\{[pbvBV]?matrix\}$`)
)

// parseValue parses a normalised answer into a value.
func parseValue(s string) (value, error) {
	return parseValueDepth(s, 0)
}

func parseValueDepth(s string, depth int) (value, error) {
	s = strings.TrimSpace(s)
	if s == "" || depth > 8 {
		return value{}, errParse
	}
	// A mixed number "2\frac{1}{3}" or "2 1/3" is 2 + 1/3, not 2 · 1/3.
	if strings.Contains(s, `\frac`) {
		s = mixedLatexRE.ReplaceAllString(s, `$1($2+\frac{$3}{$4})`)
	}
	if m := mixedPlainRE.FindStringSubmatch(s); m != nil {
		return mixed(m), nil
	}
	if m := matrixRE.FindStringSubmatch(s); m != nil {
		return parseMatrix(m[1], depth)
	}
	for _, pm := range []string{`\pm`, `\mp`} {
		if i := strings.Index(s, pm); i >= 0 {
			plus, minus := "+", "-"
			if pm == `\mp` {
				plus, minus = minus, plus
			}
			rest := s[i+len(pm):]
			if i+len(pm) < len(s) && isLetter(s[i+len(pm)]) {
				break // another command, e.g. \pmatrix
			}
			return parseList([]string{s[:i] + plus + rest, s[:i] + minus + rest}, kSet, depth)
		}
	}
	if parts := splitTop(s, `\cup`); len(parts) > 1 {
		return parseList(parts, kSet, depth)
	}
	if strings.HasPrefix(s, `\{`) && strings.HasSuffix(s, `\}`) && enclosed(s) {
		return parseList(splitTop(s[2:len(s)-2], ","), kSet, depth)
	}
	if len(s) >= 2 && strings.IndexByte("([", s[0]) >= 0 && strings.IndexByte(")]", s[len(s)-1]) >= 0 && enclosed(s) {
		if parts := splitTop(s[1:len(s)-1], ","); len(parts) > 1 {
			v, err := parseList(parts, kTuple, depth)
			v.open, v.close = s[0], s[len(s)-1]
			return v, err
		}
	}
	if parts := splitTop(s, ","); len(parts) > 1 {
		return parseList(parts, kSet, depth)
	}
	if parts := splitTop(s, "="); len(parts) == 2 {
		l, err := parseExpr(parts[0])
		if err != nil {
			return value{}, err
		}
		r, err := parseExpr(parts[1])
		if err != nil {
			return value{}, err
		}
		v := value{kind: kEq, n: add(l, r, -1)}
		if lhs := strings.TrimSpace(parts[0]); len(lhs) == 1 && isLetter(lhs[0]) {
			v.assign = &r
		}
		return v, nil
	}
	percent := false
	if strings.HasSuffix(s, "%") {
		s, percent = strings.TrimSpace(s[:len(s)-1]), true
	}
	n, err := parseExpr(s)
	if err != nil {
		return value{}, err
	}
	n.percent = percent
	return value{kind: kNum, n: n}, nil
}

func mixed(m []string) value {
	w, _ := new(big.Rat).SetString(m[2])
	f, _ := new(big.Rat).SetString(m[3] + "/" + m[4])
	if f == nil || w == nil { // zero denominator
		return value{kind: kNum, n: constNum(math.NaN())}
	}
	r := new(big.Rat).Add(w, f)
	if m[1] == "-" {
		r.Neg(r)
	}
	return value{kind: kNum, n: ratNum(r)}
}

func parseList(parts []string, k kind, depth int) (value, error) {
	v := value{kind: k}
	for _, p := range parts {
		e, err := parseValueDepth(p, depth+1)
		if err != nil {
			return value{}, err
		}
		if k == kSet && e.kind == kSet { // 1 \pm \sqrt{5} inside \{…\}
			v.elems = append(v.elems, e.elems...)
			continue
		}
		v.elems = append(v.elems, e)
	}
	return v, nil
}

func parseMatrix(body string, depth int) (value, error) {
	v := value{kind: kMatrix}
	for _, row := range strings.Split(body, `\\`) {
		if strings.TrimSpace(row) == "" {
			continue
		}
		cells := strings.Split(row, "&")
		if v.rows > 0 && len(cells) != v.cols {
			return value{}, errParse
		}
		v.cols = len(cells)
		v.rows++
		for _, c := range cells {
			e, err := parseValueDepth(c, depth+1)
			if err != nil {
				return value{}, err
			}
			v.elems = append(v.elems, e)
		}
	}
	if v.rows == 0 {
		return value{}, errParse
	}
	return v, nil
}

// enclosed reports whether the bracket that opens s closes
// only at the end of s, so "(1,2)" is enclosed and "(1)+(2)" is not.
func enclosed(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '}') {
				if s[i+1] == '{' {
					depth++
				} else {
					depth--
				}
				i++
				if depth == 0 && i != len(s)-1 {
					return false
				}
			}
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 && i != len(s)-1 {
				return false
			}
		}
		if depth < 0 {
			return false
		}
	}
	return depth == 0
}

// splitTop splits s at sep where sep is outside every bracket; an interval
// like "[1,4)" counts as one bracket pair.
func splitTop(s, sep string) []string {
	var parts []string
	depth, last := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '}'):
			if s[i+1] == '{' {
				depth++
			} else {
				depth--
			}
			i++
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
		case c == ')' || c == ']' || c == '}':
			depth--
		}
		if depth == 0 && strings.HasPrefix(s[i:], sep) {
			// "\cup" must not match inside "\cupcake"; "=" not inside "\le=".
			parts = append(parts, s[last:i])
			last = i + len(sep)
			i += len(sep) - 1
		}
	}
	return append(parts, s[last:])
}

// tri is a three-way comparison result.
type tri int

const (
	no tri = iota
	yes
	unknown // e.g. NaN at a sample point: neither side can be trusted
)

// comparer compares values under one set of options and records how the
// last "yes" was decided.
type comparer struct {
	relTol            float64
	percentAsFraction bool
	method            string
}

func (c *comparer) value(a, b value) tri {
	switch {
	case a.kind == kNum && b.kind == kNum:
		return c.num(a.n, b.n)
	case a.kind == kEq && b.kind == kEq:
		return c.equation(a.n, b.n)
	case a.kind == kEq && a.assign != nil && b.kind == kNum:
		return c.num(*a.assign, b.n) // gold "x = 5", answer "5"
	case b.kind == kEq && b.assign != nil && a.kind == kNum:
		return c.num(a.n, *b.assign)
	case a.kind == kSet && b.kind == kSet:
		return c.set(a.elems, b.elems)
	case a.kind == kSet && len(a.elems) == 1:
		return c.value(a.elems[0], b)
	case b.kind == kSet && len(b.elems) == 1:
		return c.value(a, b.elems[0])
	case a.kind == kTuple && b.kind == kTuple:
		if a.open != b.open || a.close != b.close {
			return no // (1,4) is not [1,4)
		}
		return c.seq(a.elems, b.elems)
	case a.kind == kMatrix && b.kind == kMatrix:
		if a.rows != b.rows || a.cols != b.cols {
			return no
		}
		return c.seq(a.elems, b.elems)
	case a.kind == kMatrix && b.kind == kTuple && (a.rows == 1 || a.cols == 1):
		return c.seq(a.elems, b.elems) // a column vector written (a, b, c)
	case b.kind == kMatrix && a.kind == kTuple && (b.rows == 1 || b.cols == 1):
		return c.seq(a.elems, b.elems)
	}
	return no
}

func (c *comparer) seq(a, b []value) tri {
	if len(a) != len(b) {
		return no
	}
	out := yes
	for i := range a {
		switch c.value(a[i], b[i]) {
		case no:
			return no
		case unknown:
			out = unknown
		}
	}
	return out
}

// set matches the elements of a and b one to one, in any order.
func (c *comparer) set(a, b []value) tri {
	if len(a) != len(b) {
		return no
	}
	used := make([]bool, len(b))
	out := yes
	for _, x := range a {
		found, maybe := false, false
		for j, y := range b {
			if used[j] {
				continue
			}
			switch c.value(x, y) {
			case yes:
				used[j], found = true, true
			case unknown:
				maybe = true
			}
			if found {
				break
			}
		}
		if !found {
			if !maybe {
				return no
			}
			out = unknown
		}
	}
	return out
}

func (c *comparer) num(a, b num) tri {
	if a.percent != b.percent {
		// "35%" equals "35" (B13); it equals "0.35" only when the benchmark
		// says percentages may be written as fractions.
		p, q := a, b
		p.percent, q.percent = false, false
		if r := c.num(p, q); r != no || !c.percentAsFraction {
			return r
		}
		hundred := ratNum(big.NewRat(100, 1))
		if a.percent {
			p = div(p, hundred)
		} else {
			q = div(q, hundred)
		}
		return c.num(p, q)
	}
	if a.inf || b.inf {
		if a.inf && b.inf && !a.vars && !b.vars && math.Signbit(a.v[0]) == math.Signbit(b.v[0]) {
			c.method = "exact"
			return yes
		}
		return no
	}
	if a.rat != nil && b.rat != nil {
		c.method = "exact"
		if a.rat.Cmp(b.rat) == 0 {
			return yes
		}
		return no
	}
	tol := c.relTol
	if a.vars || b.vars {
		tol = 1e-9
	}
	for i := 0; i < nPoints; i++ {
		x, y := a.v[i], b.v[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			return unknown
		}
		if math.IsInf(x, 0) || math.IsInf(y, 0) {
			// An overflow is larger than any finite float: it differs from
			// every finite value, and two overflows cannot be told apart.
			if math.IsInf(x, 0) && math.IsInf(y, 0) {
				return unknown
			}
			return no
		}
		if math.Abs(x-y) > tol*math.Max(math.Max(math.Abs(x), math.Abs(y)), 1e-12) {
			return no
		}
		if !a.vars && !b.vars {
			break // constants: one point is all the points
		}
	}
	if a.vars || b.vars {
		c.method = "points"
	} else {
		c.method = "tolerance"
	}
	return yes
}

// equation compares two equations f = 0 and g = 0 (f = lhs − rhs): they are
// the same when g = k·f for a nonzero constant k at every sample point
// (B18: never compare the bare right-hand sides).
func (c *comparer) equation(f, g num) tri {
	if !f.vars && !g.vars {
		return c.num(f, g)
	}
	var k float64
	for i := 0; i < nPoints; i++ {
		x, y := f.v[i], g.v[i]
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return unknown
		}
		if math.Abs(x) < 1e-12 || math.Abs(y) < 1e-12 {
			if math.Abs(x) < 1e-12 && math.Abs(y) < 1e-12 {
				continue
			}
			return no
		}
		r := y / x
		if k == 0 {
			k = r
		} else if math.Abs(r-k) > 1e-9*math.Abs(k) {
			return no
		}
	}
	c.method = "points"
	return yes
}

// Equal reports whether pred is mathematically equal to gold. Both are
// normalised first (Normalize), so callers pass raw answers (B15). It
// decides, in order: the same normal form; exact rational equality for
// integers, decimals, fractions and mixed numbers; relative tolerance
// opts.RelTol when a side is irrational (√2, π) or a rounded float with 15+
// digits; tuples and intervals element by element with their brackets;
// sets (\{…\}, "a, b", ±, ∪) in any order; matrices; expressions in single-
// letter variables and equations (up to a nonzero factor) by evaluation at
// fixed sample points. When that cannot decide (an unknown command, NaN at a
// sample point) it asks opts.Symbolic if set, else returns false. A
// Symbolic error is returned as is.
func Equal(ctx context.Context, gold, pred string, opts Options) (bool, error) {
	ok, _, err := equalMethod(ctx, gold, pred, opts)
	return ok, err
}

func equalMethod(ctx context.Context, gold, pred string, opts Options) (bool, string, error) {
	ng, np := Normalize(gold), Normalize(pred)
	kg, kp := key(ng), key(np)
	if kg == kp && kg != "" {
		return true, "string", nil
	}
	if isWord(kg) && isWord(kp) {
		return strings.EqualFold(kg, kp), "string", nil
	}
	c := comparer{relTol: opts.relTol(), percentAsFraction: opts.PercentAsFraction}
	gv, errG := parseValue(ng)
	pv, errP := parseValue(np)
	r := unknown
	if errG == nil && errP == nil {
		r = c.value(gv, pv)
	}
	if r == no || (r == yes && (c.method != "points" || opts.Symbolic == nil)) {
		return r == yes, c.method, nil
	}
	if opts.Symbolic == nil {
		return false, "string", nil
	}
	if err := ctx.Err(); err != nil {
		return false, "symbolic", err
	}
	eq, err := opts.Symbolic.Equal(ctx, ng, np)
	return eq, "symbolic", err
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && s[i] != ' ' {
			return false
		}
	}
	return len(s) > 1
}
