// Package redisstore keeps package store's expiring state in Redis
// (github.com/redis/go-redis/v9), shared by every replica.
package redisstore

import (
	_ "github.com/redis/go-redis/v9" // the client
)
