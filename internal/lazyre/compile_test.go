package lazyre

import (
	"strings"
	"testing"
)

func TestInvalidExpressionIsReported(t *testing.T) {
	bad := &Regexp{expr: `(unclosed`}
	good := &Regexp{expr: `ok`}
	if _, err := compileEach([]*Regexp{good, bad}); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Fatalf("err = %v, want the compile error", err)
	}
	if n, err := compileEach([]*Regexp{good}); n != 1 || err != nil {
		t.Fatalf("compileEach(good) = %d, %v", n, err)
	}
}
