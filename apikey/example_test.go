package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ssokit/ssokit/apikey"
	"github.com/ssokit/ssokit/ssoerr"
	"github.com/ssokit/ssokit/store"
)

func Example() {
	ctx := context.Background()
	st, _ := store.NewMemory(store.MemoryConfig{})
	keys, err := apikey.New(apikey.Config{Store: st})
	if err != nil {
		panic(err)
	}
	plain, meta, _ := keys.Create(ctx, "acme", "deploy bot", "editor", time.Time{})
	fmt.Println(strings.HasPrefix(plain, "ssk_live_"), meta.Role)
	k, err := keys.Verify(ctx, plain)
	fmt.Println(k.ID == meta.ID, err)
	_, err = keys.Verify(ctx, "ssk_live_unknown")
	fmt.Println(errors.Is(err, ssoerr.ErrInvalidToken), ssoerr.ReasonOf(err))
	// Output:
	// true editor
	// true <nil>
	// true unknown_api_key
}
