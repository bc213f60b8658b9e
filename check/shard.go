package check

// Sharding a domain list over machines. mxray does not schedule itself: an
// existing batch engine runs n workers over the same list, and each takes
// the domains whose hash falls in its share (as masscan's --shard i/N and
// ZMap's --shards/--shard do for addresses). The share depends only on the
// normalised domain, so it does not change with the order of the list, its
// other lines, or the machine; a Kubernetes Indexed Job (completionMode:
// Indexed) gives each pod its index in JOB_COMPLETION_INDEX, and a pod that
// fails is replaced with the same index, so the same share is checked again.

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Shard is one share of a list: the entries whose key hashes to Index
// modulo Count. The zero value (Count 0) takes the whole list.
type Shard struct {
	Index, Count int
}

// ShardIndexEnv is where a Kubernetes Indexed Job puts a pod's index.
const ShardIndexEnv = "JOB_COMPLETION_INDEX"

// ShardCountEnv gives the number of shards to --shard auto when --shards
// does not.
const ShardCountEnv = "MXRAY_SHARDS"

// ParseShard reads --shard: "i/n" (0 ≤ i < n), or "auto" for i from
// JOB_COMPLETION_INDEX and n from count (--shards) or else MXRAY_SHARDS.
// An empty spec is the whole list.
func ParseShard(spec string, count int, getenv func(string) string) (Shard, error) {
	switch spec {
	case "":
		if count != 0 {
			return Shard{}, errors.New("--shards needs --shard auto")
		}
		return Shard{}, nil
	case "auto":
		return autoShard(count, getenv)
	}
	if count != 0 {
		return Shard{}, errors.New("--shards goes with --shard auto; with --shard i/n, n is the count")
	}
	i, n, ok := strings.Cut(spec, "/")
	if !ok {
		return Shard{}, fmt.Errorf("--shard %q: want i/n (e.g. 0/8) or auto", spec)
	}
	return newShard(i, n, "--shard "+spec)
}

func autoShard(count int, getenv func(string) string) (Shard, error) {
	i := strings.TrimSpace(getenv(ShardIndexEnv))
	if i == "" {
		return Shard{}, fmt.Errorf("--shard auto: %s is not set (it is set in the pods of a Kubernetes Indexed Job)", ShardIndexEnv)
	}
	n := strconv.Itoa(count)
	src := "--shards"
	if count == 0 {
		n, src = strings.TrimSpace(getenv(ShardCountEnv)), ShardCountEnv
		if n == "" {
			return Shard{}, fmt.Errorf("--shard auto: give the number of shards with --shards N or %s", ShardCountEnv)
		}
	}
	return newShard(i, n, fmt.Sprintf("--shard auto (%s=%s, %s %s)", ShardIndexEnv, i, src, n))
}

func newShard(index, count, what string) (Shard, error) {
	i, err1 := strconv.Atoi(index)
	n, err2 := strconv.Atoi(count)
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("%s: the index and count must be whole numbers", what)
	case n < 1:
		return Shard{}, fmt.Errorf("%s: the count must be at least 1", what)
	case i < 0 || i >= n:
		return Shard{}, fmt.Errorf("%s: the index must be from 0 to %d", what, n-1)
	}
	return Shard{Index: i, Count: n}, nil
}

// Owns reports whether key (a normalised domain, or the text of a line
// that holds none) belongs to this shard.
func (s Shard) Owns(key string) bool {
	if s.Count <= 1 {
		return true
	}
	return ShardOf(key, s.Count) == s.Index
}

// ShardOf is the shard of key among n: FNV-1a (64 bits) of the key, modulo
// n. The function is part of the interface: workers of different mxray
// versions must split a list the same way.
func ShardOf(key string, n int) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return int(h.Sum64() % uint64(n))
}

// String is "i/n", or "all".
func (s Shard) String() string {
	if s.Count == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}
