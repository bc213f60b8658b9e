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

// TestOnPartDone: every enabled part is announced once, with the sections
// the report holds (a panic's section included), and the report does not
// change.
func TestOnPartDone(t *testing.T) {
	release := make(chan struct{})
	ps := map[string]Part{
		"mx": {ID: "mx", Order: 10, Run: func(ctx context.Context, env *Env) ([]report.Section, any) {
			return []report.Section{{ID: "mx", Title: "MX"}}, &dnscheck.MXResult{Domain: env.Domain}
		}},
		"slow": {ID: "slow", Order: 20, Run: func(ctx context.Context, env *Env) ([]report.Section, any) {
			<-release
			return []report.Section{{ID: "slow", Title: "Slow"}}, nil
		}},
		"boom":    {ID: "boom", Order: 30, Run: func(ctx context.Context, env *Env) ([]report.Section, any) { panic("boom") }},
		"quiet":   {ID: "quiet", Order: 40, Run: func(ctx context.Context, env *Env) ([]report.Section, any) { return nil, nil }},
		"skipped": {ID: "skipped", Order: 50, Run: func(ctx context.Context, env *Env) ([]report.Section, any) { return nil, nil }},
	}
	got := map[string][]report.Section{}
	var order []string
	cfg := Config{Resolver: dnscheck.NewStaticResolver(), Skip: []string{"skipped"},
		OnPartDone: func(id string, secs []report.Section) {
			order = append(order, id)
			got[id] = secs
			if len(got) == 3 {
				close(release) // the slow part ends only after the other three were announced
			}
		}}
	rep, err := runParts(context.Background(), cfg, "example.test", ps)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != 4 || order[3] != "slow" {
		t.Fatalf("announced %v, want mx, boom, quiet in any order, then slow", order)
	}
	if _, ok := got["skipped"]; ok {
		t.Error("a skipped part was announced")
	}
	if len(got["boom"]) != 1 || got["boom"][0].Findings[0].ID != "boom.internal-error" {
		t.Errorf("the panicking part was announced with %+v", got["boom"])
	}
	if len(got["quiet"]) != 0 {
		t.Errorf("quiet part: %+v", got["quiet"])
	}
	var ids []string
	for _, s := range rep.Sections {
		ids = append(ids, s.ID)
	}
	if len(ids) != 3 || ids[0] != "mx" || ids[1] != "slow" || ids[2] != "boom" {
		t.Errorf("report sections %v, want [mx slow boom]", ids)
	}
}

func TestEnabledParts(t *testing.T) {
	got := EnabledParts(Config{Only: []string{"spf"}})
	if len(got) != 2 || got[0] != "mx" || got[1] != "spf" {
		t.Errorf("--only spf: %v", got)
	}
	all := EnabledParts(Config{})
	if len(all) != len(Parts()) {
		t.Errorf("no filter: %v, want %v", all, Parts())
	}
}
