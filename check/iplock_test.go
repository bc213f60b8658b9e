package check

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestIPLocksOnePerAddress: holders of one address take turns; another
// address is not held up.
func TestIPLocksOnePerAddress(t *testing.T) {
	var l IPLocks
	var mu sync.Mutex
	active, maxActive := map[string]int{}, map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		ip := []string{"192.0.2.1", "192.0.2.2"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.Lock(context.Background(), ip)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			active[ip]++
			maxActive[ip] = max(maxActive[ip], active[ip])
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			active[ip]--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	for ip, n := range maxActive {
		if n != 1 {
			t.Errorf("%s: %d sessions at once", ip, n)
		}
	}
	if n := l.Len(); n != 0 {
		t.Errorf("%d addresses still tracked after every holder left", n)
	}
}

// TestIPLocksDeadline: a waiter whose context ends gives up without taking
// the slot, and the holder's slot is not disturbed.
func TestIPLocksDeadline(t *testing.T) {
	var l IPLocks
	unlock, err := l.Lock(context.Background(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "192.0.2.1"); err == nil {
		t.Fatal("got a held slot")
	}
	unlock()
	unlock() // a second call is harmless
	u2, err := l.Lock(context.Background(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	u2()
}

// TestIPLocksSpacing: the next session to an address waits out Spacing
// after the last one ended; the slot is kept until then, and dropped after.
func TestIPLocksSpacing(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	var mu sync.Mutex
	l := IPLocks{Spacing: time.Hour, now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	unlock, _ := l.Lock(context.Background(), "192.0.2.1")
	unlock()
	if l.Len() != 1 {
		t.Fatal("the slot was dropped before its spacing passed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(ctx, "192.0.2.1"); err == nil {
		t.Fatal("a second session started within the spacing")
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	u, err := l.Lock(context.Background(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	u()
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	u9, _ := l.Lock(context.Background(), "192.0.2.9")
	u9() // leaving sweeps the slots whose spacing has passed
	if l.Len() != 1 {
		t.Errorf("%d slots kept; want only 192.0.2.9's, still spaced", l.Len())
	}
}
