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
	if len(evs) > keep {
		evs = append([]SSOEvent(nil), evs[len(evs)-keep:]...)
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
