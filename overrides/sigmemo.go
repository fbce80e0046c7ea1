package overrides

import (
	"crypto/sha256"
	"sync"
)

// maxRemembered bounds a council's memory of checked signatures; past it the
// memory starts again (a correctness no-op: it only saves work).
const maxRemembered = 4096

// sigMemo remembers the outcome of each signature check of one council
// (key, signature, payload), so re-verifying an unchanged document (every
// time any document of a pool changes, or a clock edge passes) costs no
// ECDSA verification: whoever can create or update Override objects can
// make the pool re-verify often, but each signature is checked once.
type sigMemo struct {
	mu       sync.Mutex
	outcomes map[[sha256.Size]byte]bool
	checks   int // ECDSA verifications made, for tests
}

func memoKey(keyID string, sig, payload []byte) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range [][]byte{[]byte(keyID), sig, payload} {
		var n [8]byte
		for i, l := 0, uint64(len(part)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write(part)
	}
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// valid answers whether verify accepts sig by keyID over payload, calling
// verify only the first time.
func (m *sigMemo) valid(keyID string, sig, payload []byte, verify func() bool) bool {
	k := memoKey(keyID, sig, payload)
	m.mu.Lock()
	ok, seen := m.outcomes[k]
	m.mu.Unlock()
	if seen {
		return ok
	}
	ok = verify()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.outcomes == nil || len(m.outcomes) >= maxRemembered {
		m.outcomes = map[[sha256.Size]byte]bool{}
	}
	m.outcomes[k] = ok
	m.checks++
	return ok
}
