package check

import (
	"fmt"
	"testing"
)

// TestShardsPartitionTheList: for n in 1..8, every domain of a list lands in
// exactly one shard.
func TestShardsPartitionTheList(t *testing.T) {
	var keys []string
	for i := 0; i < 2000; i++ {
		keys = append(keys, fmt.Sprintf("d%d.example.com", i))
	}
	keys = append(keys, "xn--bcher-kva.de", "not a domain", "")
	for n := 1; n <= 8; n++ {
		sizes := make([]int, n)
		for _, k := range keys {
			owners := 0
			for i := 0; i < n; i++ {
				if (Shard{Index: i, Count: n}).Owns(k) {
					owners++
					sizes[i]++
				}
			}
			if owners != 1 {
				t.Fatalf("n=%d: %q is owned by %d shards", n, k, owners)
			}
		}
		// FNV-1a spreads the names: no shard is empty or takes twice its share.
		for i, s := range sizes {
			if fair := len(keys) / n; s < fair/2 || s > 2*fair {
				t.Errorf("n=%d: shard %d has %d of %d keys", n, i, s, len(keys))
			}
		}
	}
}

// TestShardOfIsStable: the split is part of the interface (workers of
// different versions must agree). The values were computed apart from
// this code, from the FNV-1a definition (offset basis 0xcbf29ce484222325,
// prime 0x100000001b3): example.com hashes to 0x576846634e2714c6.
func TestShardOfIsStable(t *testing.T) {
	for key, want := range map[string]int{"example.com": 6, "example.org": 1, "xn--bcher-kva.de": 5} {
		if got := ShardOf(key, 8); got != want {
			t.Errorf("ShardOf(%q, 8) = %d, want %d", key, got, want)
		}
	}
}

func TestParseShard(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	none := env(nil)
	k8s := env(map[string]string{ShardIndexEnv: "3", ShardCountEnv: "8"})
	tests := []struct {
		spec   string
		count  int
		getenv func(string) string
		want   Shard
		bad    bool
	}{
		{"", 0, none, Shard{}, false},
		{"0/1", 0, none, Shard{0, 1}, false},
		{"7/8", 0, none, Shard{7, 8}, false},
		{"auto", 0, k8s, Shard{3, 8}, false},
		{"auto", 4, k8s, Shard{3, 4}, false}, // --shards wins over the environment
		{"auto", 2, k8s, Shard{}, true},      // index 3 of 2
		{"auto", 0, env(map[string]string{ShardIndexEnv: "1"}), Shard{}, true},
		{"auto", 4, none, Shard{}, true},
		{"8/8", 0, none, Shard{}, true},
		{"-1/8", 0, none, Shard{}, true},
		{"1/0", 0, none, Shard{}, true},
		{"a/b", 0, none, Shard{}, true},
		{"3", 0, none, Shard{}, true},
		{"1/4", 4, none, Shard{}, true}, // --shards only with auto
		{"", 4, none, Shard{}, true},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.spec, tt.count, tt.getenv)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseShard(%q, %d) = %v, %v; want %v (error %v)", tt.spec, tt.count, got, err, tt.want, tt.bad)
		}
	}
}
