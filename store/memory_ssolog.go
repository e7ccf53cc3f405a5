package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// AddSSOEvent implements SSOLog.
func (m *Memory) AddSSOEvent(_ context.Context, e SSOEvent, keep int) error {
	if keep < 1 {
		return fmt.Errorf("store: keep %d: at least one event is kept", keep)
	}
	e = CleanSSOEvent(e)
	if e.ID == "" {
		e.ID = rand.Text()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.orgs[e.OrgID]; !ok {
		return fmt.Errorf("%w: organization %s", ErrNotFound, e.OrgID)
	}
	if e.Time.IsZero() {
		e.Time = m.stamp()
	}
	if m.ssolog == nil {
		m.ssolog = map[string][]SSOEvent{}
	}
	evs := append(m.ssolog[e.OrgID], e)
	// Drop the oldest events of e's kind beyond keep; the other kind's
	// stay.
	same := 0
	for _, x := range evs {
		if x.Unverified == e.Unverified {
			same++
		}
	}
	if over := same - keep; over > 0 {
		kept := make([]SSOEvent, 0, len(evs)-over)
		for _, x := range evs {
			if over > 0 && x.Unverified == e.Unverified {
				over--
				continue
			}
			kept = append(kept, x)
		}
		evs = kept
	}
	m.ssolog[e.OrgID] = evs
	return nil
}

// SSOEvents implements SSOLog.
func (m *Memory) SSOEvents(_ context.Context, orgID string, limit int) ([]SSOEvent, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	evs := m.ssolog[orgID]
	var out []SSOEvent
	for i := len(evs) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, evs[i])
	}
	return out, nil
}
