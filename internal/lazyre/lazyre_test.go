package lazyre_test

import (
	"sync"
	"testing"

	// Every package that holds lazily compiled expressions, so that
	// CompileAll sees them all.
	_ "github.com/mxray/mxray/check"
	_ "github.com/mxray/mxray/dnscheck"
	_ "github.com/mxray/mxray/dnscheck/dnsbl"
	"github.com/mxray/mxray/internal/lazyre"
	_ "github.com/mxray/mxray/probe"
	_ "github.com/mxray/mxray/report/catalog"
	_ "github.com/mxray/mxray/report/message"
)

func TestEveryExpressionCompiles(t *testing.T) {
	n, err := lazyre.CompileAll()
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d expressions registered; the imports above should bring more than 50", n)
	}
}

func TestConcurrentFirstUse(t *testing.T) {
	re := lazyre.New(`^([245])\.(\d{1,3})\.(\d{1,3})$`)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if m := re.FindStringSubmatch("5.7.1"); len(m) != 4 || m[1] != "5" {
				t.Errorf("match = %q", m)
			}
		}()
	}
	wg.Wait()
	if re.String() != `^([245])\.(\d{1,3})\.(\d{1,3})$` {
		t.Errorf("String() = %q", re.String())
	}
}
