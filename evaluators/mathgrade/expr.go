package mathgrade

import (
	"errors"
	"math"
	"math/big"
	"strings"
)

// nPoints is how many variable assignments an expression is evaluated at.
// Two expressions in free variables that agree at all of them (to 1e-9) are
// taken as equal; one that differs at any point is not equal.
const nPoints = 4

// Limits that keep evaluation bounded whatever the input (scoring case B21:
// 3^{3^{3^3}} must not hang). Exact values past maxRatBits fall back to
// float64, which overflows to ±Inf instead of allocating.
const (
	maxRatBits   = 4096
	maxDepth     = 200
	maxFactorial = 300
)

// num is the value of an expression. rat is exact when the value is a
// rational constant; it is nil for irrational values (√2, π), values from
// decimal literals that are rounded floats (approx), and values that depend
// on variables. v holds the value at each of the nPoints variable
// assignments (all equal for a constant).
type num struct {
	rat     *big.Rat
	v       [nPoints]float64
	vars    bool // depends on a variable
	inf     bool // the literal ∞ (sign in v), not an overflow
	approx  bool // a decimal with ≥ 15 significant digits: a rounded binary float
	percent bool // written with a percent sign
}

func constNum(f float64) num {
	var n num
	for i := range n.v {
		n.v[i] = f
	}
	return n
}

func ratNum(r *big.Rat) num {
	f, _ := r.Float64()
	n := constNum(f)
	n.rat = r
	return n
}

// varValue gives variable c (a letter) a fixed pseudo-random value in
// [0.3, 2.3) at sample point j (splitmix64 of the pair). Positive values keep
// √x and log x defined.
func varValue(c byte, j int) float64 {
	z := uint64(c)*0x9E3779B97F4A7C15 + uint64(j+1)*0xBF58476D1CE4E5B9
	z ^= z >> 30
	z *= 0xBF58476D1CE4E5B9
	z ^= z >> 27
	z *= 0x94D049BB133111EB
	z ^= z >> 31
	return 0.3 + 2*float64(z>>11)/float64(1<<53)
}

var errParse = errors.New("mathgrade: cannot parse")

// parseError is raised with panic inside the recursive-descent parser and
// turned back into an error by parseExpr.
type parseError struct{ msg string }

type parser struct {
	s     string
	i     int
	depth int
}

// parseExpr evaluates a normalised LaTeX expression: numbers, + − · × ÷ /,
// implicit multiplication, ^, !, parentheses, |x|, \frac, \sqrt (and
// \sqrt[n]), \binom, \pi, \infty, single-letter variables and the common
// functions (\sin … \ln, \log, \exp). It returns errParse for anything else.
func parseExpr(s string) (n num, err error) {
	p := &parser{s: s}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(parseError); !ok {
				panic(r)
			}
			err = errParse
		}
	}()
	n = p.sum()
	p.space()
	if p.i != len(p.s) {
		p.fail("trailing text")
	}
	return n, nil
}

func (p *parser) fail(msg string) { panic(parseError{msg}) }

func (p *parser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *parser) peek() byte {
	p.space()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

// command returns the control word at the cursor without consuming it.
func (p *parser) command() string {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '\\' {
		return ""
	}
	j := p.i + 1
	for j < len(p.s) && isLetter(p.s[j]) {
		j++
	}
	return p.s[p.i+1 : j]
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.fail("nested too deep")
	}
}

func (p *parser) sum() num {
	p.enter()
	defer func() { p.depth-- }()
	n := p.product()
	for {
		switch p.peek() {
		case '+':
			p.i++
			n = add(n, p.product(), 1)
		case '-':
			p.i++
			n = add(n, p.product(), -1)
		default:
			return n
		}
	}
}

func (p *parser) product() num {
	n := p.unary()
	for {
		c := p.peek()
		switch {
		case c == '*':
			p.i++
			n = mul(n, p.unary())
		case c == '/':
			p.i++
			n = div(n, p.unary())
		case c == '\\':
			switch p.command() {
			case "cdot", "times", "ast":
				p.i += 1 + len(p.command())
				n = mul(n, p.unary())
			case "div":
				p.i += 4
				n = div(n, p.unary())
			case "frac", "sqrt", "binom", "pi", "infty", "sin", "cos", "tan", "cot", "sec", "csc",
				"ln", "log", "exp", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh":
				n = mul(n, p.power())
			default:
				return n
			}
		case c >= '0' && c <= '9', c == '.', isLetter(c), c == '(', c == '{', c == '[':
			n = mul(n, p.power())
		default:
			return n
		}
	}
}

func (p *parser) unary() num {
	p.enter()
	defer func() { p.depth-- }()
	switch p.peek() {
	case '-':
		p.i++
		return neg(p.unary())
	case '+':
		p.i++
		return p.unary()
	}
	return p.power()
}

func (p *parser) power() num {
	n := p.postfix()
	if p.peek() == '^' {
		p.i++
		n = pow(n, p.exponent())
	}
	return n
}

// exponent reads what follows "^": a braced group, a signed number, or one
// atom (x^2, 2^{10}, e^\pi, 2^-1).
func (p *parser) exponent() num {
	p.enter()
	defer func() { p.depth-- }()
	switch c := p.peek(); {
	case c == '-':
		p.i++
		return neg(p.exponent())
	case c == '{':
		return p.postfixOf(p.group('{', '}'))
	}
	return p.postfix()
}

func (p *parser) postfix() num { return p.postfixOf(p.primary()) }

func (p *parser) postfixOf(n num) num {
	for p.i < len(p.s) && p.s[p.i] == '!' {
		p.i++
		n = factorial(n)
	}
	return n
}

// group parses open expr close.
func (p *parser) group(open, close byte) num {
	if p.peek() != open {
		p.fail("expected group")
	}
	p.i++
	n := p.sum()
	if p.peek() != close {
		p.fail("unbalanced group")
	}
	p.i++
	return n
}

func (p *parser) primary() num {
	p.enter()
	defer func() { p.depth-- }()
	c := p.peek()
	switch {
	case c >= '0' && c <= '9' || c == '.':
		return p.number()
	case isLetter(c):
		p.i++
		var n num
		for j := range n.v {
			n.v[j] = varValue(c, j)
		}
		n.vars = true
		return n
	case c == '(':
		return p.group('(', ')')
	case c == '{':
		return p.group('{', '}')
	case c == '[':
		return p.group('[', ']')
	case c == '|':
		n := p.group('|', '|')
		return absNum(n)
	case c == '\\':
		name := p.command()
		p.i += 1 + len(name)
		return p.call(name)
	}
	p.fail("unexpected character")
	return num{}
}

func (p *parser) number() num {
	start := p.i
	digits, dot := 0, false
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c >= '0' && c <= '9' {
			digits++
		} else if c == '.' && !dot && p.i+1 < len(p.s) && p.s[p.i+1] >= '0' && p.s[p.i+1] <= '9' {
			dot = true
		} else {
			break
		}
		p.i++
	}
	lit := p.s[start:p.i]
	if digits == 0 || len(lit) > 400 {
		p.fail("bad number")
	}
	r, ok := new(big.Rat).SetString(lit)
	if !ok {
		p.fail("bad number")
	}
	n := ratNum(r)
	// A decimal with 15+ significant digits (1.8333333333333335) is a
	// float64 printed in full: its last digits are rounding, not value.
	if dot && len(strings.TrimLeft(strings.Replace(lit, ".", "", 1), "0")) >= 15 {
		n.rat, n.approx = nil, true
	}
	return n
}

func (p *parser) call(name string) num {
	switch name {
	case "frac":
		a := p.group('{', '}')
		b := p.group('{', '}')
		return div(a, b)
	case "binom":
		a := p.group('{', '}')
		b := p.group('{', '}')
		return binom(a, b)
	case "sqrt":
		root := constNum(2)
		root.rat = big.NewRat(2, 1)
		if p.peek() == '[' {
			root = p.group('[', ']')
		}
		if p.peek() == '{' {
			return nthRoot(p.group('{', '}'), root)
		}
		return nthRoot(p.power(), root)
	case "pi":
		return constNum(math.Pi)
	case "infty":
		n := constNum(math.Inf(1))
		n.inf = true
		return n
	}
	f, ok := funcs[name]
	if !ok {
		p.fail("unknown command")
	}
	// \sin^2 x means (\sin x)^2.
	var e *num
	if p.peek() == '^' {
		p.i++
		x := p.exponent()
		e = &x
	}
	arg := p.power()
	n := apply(arg, f)
	if e != nil {
		n = pow(n, *e)
	}
	return n
}

var funcs = map[string]func(float64) float64{
	"sin": math.Sin, "cos": math.Cos, "tan": math.Tan,
	"cot":    func(x float64) float64 { return 1 / math.Tan(x) },
	"sec":    func(x float64) float64 { return 1 / math.Cos(x) },
	"csc":    func(x float64) float64 { return 1 / math.Sin(x) },
	"arcsin": math.Asin, "arccos": math.Acos, "arctan": math.Atan,
	"sinh": math.Sinh, "cosh": math.Cosh, "tanh": math.Tanh,
	"ln": math.Log, "log": math.Log, "exp": math.Exp,
}

// inexact drops the exact value (the result is irrational or too large).
func inexact(n num) num {
	n.rat = nil
	return n
}

// bounded drops an exact value whose numerator or denominator passed
// maxRatBits, so later steps work in float64.
func bounded(n num) num {
	if n.rat != nil && (n.rat.Num().BitLen() > maxRatBits || n.rat.Denom().BitLen() > maxRatBits) {
		n.rat = nil
	}
	return n
}

func merge(a, b num) num {
	return num{vars: a.vars || b.vars, inf: a.inf || b.inf, approx: a.approx || b.approx}
}

func add(a, b num, sign float64) num {
	n := merge(a, b)
	for i := range n.v {
		n.v[i] = a.v[i] + sign*b.v[i]
	}
	if a.rat != nil && b.rat != nil {
		if sign > 0 {
			n.rat = new(big.Rat).Add(a.rat, b.rat)
		} else {
			n.rat = new(big.Rat).Sub(a.rat, b.rat)
		}
	}
	return bounded(n)
}

func neg(a num) num {
	n := a
	for i := range n.v {
		n.v[i] = -a.v[i]
	}
	if a.rat != nil {
		n.rat = new(big.Rat).Neg(a.rat)
	}
	return n
}

func mul(a, b num) num {
	n := merge(a, b)
	for i := range n.v {
		n.v[i] = a.v[i] * b.v[i]
	}
	if a.rat != nil && b.rat != nil {
		n.rat = new(big.Rat).Mul(a.rat, b.rat)
	}
	return bounded(n)
}

func div(a, b num) num {
	n := merge(a, b)
	for i := range n.v {
		n.v[i] = a.v[i] / b.v[i]
	}
	if a.rat != nil && b.rat != nil {
		if b.rat.Sign() == 0 {
			return inexact(n) // x/0: v is ±Inf or NaN; never an exact value
		}
		n.rat = new(big.Rat).Quo(a.rat, b.rat)
	}
	return bounded(n)
}

func absNum(a num) num {
	n := a
	for i := range n.v {
		n.v[i] = math.Abs(a.v[i])
	}
	if a.rat != nil {
		n.rat = new(big.Rat).Abs(a.rat)
	}
	return n
}

func apply(a num, f func(float64) float64) num {
	n := inexact(a)
	n.inf = false
	for i := range n.v {
		n.v[i] = f(a.v[i])
	}
	return n
}

// pow computes a^b exactly when a is rational and b a small integer whose
// result stays under maxRatBits; otherwise in float64 (math.Pow), where a
// huge result overflows to ±Inf instead of allocating.
func pow(a, b num) num {
	n := merge(a, b)
	for i := range n.v {
		n.v[i] = math.Pow(a.v[i], b.v[i])
	}
	if a.rat != nil && b.rat != nil && b.rat.IsInt() && b.rat.Num().IsInt64() {
		e := b.rat.Num().Int64()
		bits := int64(a.rat.Num().BitLen() + a.rat.Denom().BitLen())
		if e == 0 {
			n.rat = big.NewRat(1, 1)
		} else if a.rat.Sign() == 0 {
			if e > 0 {
				n.rat = new(big.Rat)
			}
		} else if ae := abs64(e); ae <= maxRatBits && bits*ae <= maxRatBits {
			num := new(big.Int).Exp(a.rat.Num(), big.NewInt(ae), nil)
			den := new(big.Int).Exp(a.rat.Denom(), big.NewInt(ae), nil)
			if e < 0 {
				num, den = den, num
			}
			n.rat = new(big.Rat).SetFrac(num, den)
		}
	}
	// A rational root that is exact (4^{1/2} = 2, 8^{2/3} = 4) is found by
	// nthRoot; here it is left to the tolerance comparison.
	return bounded(n)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// nthRoot returns a^(1/r); exact when a is a rational perfect power and r a
// small positive integer.
func nthRoot(a, r num) num {
	n := merge(a, r)
	for i := range n.v {
		if r.v[i] == 2 {
			n.v[i] = math.Sqrt(a.v[i])
		} else if r.v[i] == 3 {
			n.v[i] = math.Cbrt(a.v[i])
		} else {
			n.v[i] = math.Pow(a.v[i], 1/r.v[i])
		}
	}
	if a.rat != nil && a.rat.Sign() >= 0 && r.rat != nil && r.rat.IsInt() && r.rat.Num().IsInt64() {
		k := r.rat.Num().Int64()
		if k >= 2 && k <= 64 {
			pn, okn := intRoot(a.rat.Num(), k)
			pd, okd := intRoot(a.rat.Denom(), k)
			if okn && okd {
				n.rat = new(big.Rat).SetFrac(pn, pd)
			}
		}
	}
	return n
}

// intRoot returns the exact k-th root of x ≥ 0 when x is a perfect k-th power.
func intRoot(x *big.Int, k int64) (*big.Int, bool) {
	if k == 2 {
		s := new(big.Int).Sqrt(x)
		return s, new(big.Int).Mul(s, s).Cmp(x) == 0
	}
	f, _ := new(big.Float).SetInt(x).Float64()
	guess := math.Round(math.Pow(f, 1/float64(k)))
	if math.IsInf(guess, 0) || guess > 1e15 {
		return nil, false
	}
	for _, g := range []float64{guess - 1, guess, guess + 1} {
		if g < 0 {
			continue
		}
		gi := big.NewInt(int64(g))
		if new(big.Int).Exp(gi, big.NewInt(k), nil).Cmp(x) == 0 {
			return gi, true
		}
	}
	return nil, false
}

func factorial(a num) num {
	if a.rat == nil || !a.rat.IsInt() || a.rat.Sign() < 0 || a.rat.Num().Cmp(big.NewInt(maxFactorial)) > 0 {
		n := inexact(a)
		for i := range n.v {
			n.v[i] = math.Gamma(a.v[i] + 1)
		}
		return n
	}
	r := new(big.Int).MulRange(1, a.rat.Num().Int64())
	if a.rat.Sign() == 0 {
		r = big.NewInt(1)
	}
	return ratNum(new(big.Rat).SetInt(r))
}

func binom(a, b num) num {
	if a.rat != nil && b.rat != nil && a.rat.IsInt() && b.rat.IsInt() && a.rat.Num().IsInt64() && b.rat.Num().IsInt64() {
		x, y := a.rat.Num().Int64(), b.rat.Num().Int64()
		if x >= 0 && y >= 0 && x <= 10000 {
			return bounded(ratNum(new(big.Rat).SetInt(new(big.Int).Binomial(x, y))))
		}
	}
	n := merge(a, b)
	for i := range n.v {
		lg := func(x float64) float64 { v, _ := math.Lgamma(x + 1); return v }
		n.v[i] = math.Round(math.Exp(lg(a.v[i]) - lg(b.v[i]) - lg(a.v[i]-b.v[i])))
	}
	return n
}
