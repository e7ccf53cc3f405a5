package store_test

import (
	"testing"
	"time"

	"github.com/ssokit/ssokit/store"
	"github.com/ssokit/ssokit/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		m, _ := store.NewMemory(store.MemoryConfig{Now: now})
		return m
	})
}

func TestMemorySSOLog(t *testing.T) {
	t.Parallel()
	storetest.RunSSOLog(t, func(t *testing.T, now func() time.Time) storetest.SSOLogStore {
		m, _ := store.NewMemory(store.MemoryConfig{Now: now})
		return m
	})
}
