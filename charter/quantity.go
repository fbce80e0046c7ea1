package charter

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// MaxQuantityExponent bounds the decimal exponent of a quantity (1e1000).
// Kubernetes accepts any int32 exponent, and would spend unbounded memory
// rounding 1e2000000000; charter reads a larger exponent as no quantity at
// all, the only place it departs from Kubernetes.
const MaxQuantityExponent = 1000

var exponentSuffix = regexp.MustCompile(`[eE]([+-]?[0-9]+)$`)

// bigNano is 10^9: nanos per unit.
var bigNano = big.NewInt(1_000_000_000)

// Nanos reads a Kubernetes quantity ("500m", "1Gi", "2e3", "100n", "0.5")
// as Kubernetes does (k8s.io/apimachinery resource.ParseQuantity: rounded
// up to 1n, binary-suffixed values capped at 2^63-1) and returns its value in
// units of 10^-9, which is then a whole number. A JSON number is read from
// its text, as Kubernetes unmarshals a quantity field. lib.nanos in the
// generated Rego computes the same, and a table test holds the three together.
func Nanos(s string) (*big.Int, error) {
	if m := exponentSuffix.FindStringSubmatch(s); m != nil {
		e, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || e > MaxQuantityExponent || e < -MaxQuantityExponent {
			return nil, fmt.Errorf("%q: exponent out of range (at most %d)", s, MaxQuantityExponent)
		}
	}
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return nil, err
	}
	d := q.AsDec() // value = unscaled × 10^-scale, scale ≤ 9 after Kubernetes' rounding
	n := new(big.Int).Set(d.UnscaledBig())
	shift := 9 - int64(d.Scale())
	if shift < 0 {
		// Only zero keeps a finer scale (".0n"): Kubernetes rounds the rest.
		if n.Sign() != 0 {
			return nil, errors.New("quantity finer than 1n")
		}
		return n, nil
	}
	return n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(shift), nil)), nil
}

// NanosText renders a count of nanos as the shortest decimal of its value:
// 500000000 as 0.5, 2147483648000000000 as 2147483648.
func NanosText(n *big.Int) string {
	q, r := new(big.Int).QuoRem(new(big.Int).Abs(n), bigNano, new(big.Int))
	s := q.String()
	if r.Sign() != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%09s", r.String()), "0")
		s += "." + frac
	}
	if n.Sign() < 0 {
		s = "-" + s
	}
	return s
}
