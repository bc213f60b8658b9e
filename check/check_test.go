package check

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxray/mxray/dnscheck"
	"github.com/mxray/mxray/report"
)

func TestRunPartsOrderAwaitAndPanic(t *testing.T) {
	var bRan atomic.Bool
	ps := map[string]Part{
		"mx": {ID: "mx", Order: 10, Run: func(ctx context.Context, env *Env) ([]report.Section, any) {
			time.Sleep(20 * time.Millisecond)
			return []report.Section{{ID: "mx", Title: "MX"}}, &dnscheck.MXResult{Domain: env.Domain}
		}},
		"b": {ID: "b", Order: 30, Run: func(ctx context.Context, env *Env) ([]report.Section, any) {
			mx, ok := env.MX(ctx)
			if !ok || mx.Domain != "example.test" {
				t.Errorf("await mx: %v %v", mx, ok)
			}
			bRan.Store(true)
			return []report.Section{{ID: "b", Title: "B", Findings: []report.Finding{{ID: "b.ok", Severity: report.OK}}}}, nil
		}},
		"a": {ID: "a", Order: 20, Run: func(ctx context.Context, env *Env) ([]report.Section, any) {
			if _, ok := env.Await(ctx, "skipped"); ok {
				t.Error("await of a skipped part returned ok")
			}
			panic("boom")
		}},
		"skipped": {ID: "skipped", Order: 5, Run: func(ctx context.Context, env *Env) ([]report.Section, any) {
			t.Error("skipped part ran")
			return nil, nil
		}},
	}
	rep, err := runParts(context.Background(), Config{Resolver: dnscheck.NewStaticResolver(), Skip: []string{"skipped"}}, "example.test", ps)
	if err != nil {
		t.Fatal(err)
	}
	if !bRan.Load() {
		t.Fatal("part b did not run")
	}
	var got []string
	for _, s := range rep.Sections {
		got = append(got, s.ID)
	}
	if len(got) != 3 || got[0] != "mx" || got[1] != "a" || got[2] != "b" {
		t.Fatalf("sections %v, want [mx a b]", got)
	}
	if f := rep.Find("a.internal-error"); len(f) != 1 || f[0].Severity != report.Unknown {
		t.Fatalf("panic not turned into an unknown finding: %+v", rep.Sections[1])
	}
	if rep.ExitCode() != report.ExitUnknown {
		t.Fatalf("exit %d", rep.ExitCode())
	}
}

func TestSelected(t *testing.T) {
	ids := []string{"mx", "rdns", "spf", "smtp"}
	en := selected(ids, []string{"spf"}, nil)
	if !en["spf"] || !en["mx"] || en["smtp"] || en["rdns"] {
		t.Fatalf("--only spf: %v (mx is always kept when anything runs)", en)
	}
	en = selected(ids, nil, []string{"smtp"})
	if en["smtp"] || !en["spf"] || !en["rdns"] {
		t.Fatalf("--skip smtp: %v", en)
	}
}
