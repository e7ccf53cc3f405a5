package mockclerk

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	svix "github.com/svix/svix-webhooks/go"
)

// Delivery is one webhook event sent (or being sent) to one endpoint.
type Delivery struct {
	// ID is the svix-id header, the same on every attempt.
	ID string `json:"id"`
	// Type is the event type (user.created, ...).
	Type string `json:"type"`
	// URL is the endpoint.
	URL string `json:"url"`
	// Attempts counts the tries so far (at most 5).
	Attempts int `json:"attempts"`
	// Statuses is the HTTP status of each attempt (0: no answer).
	Statuses []int `json:"statuses"`
	// Delivered reports a 2xx answer.
	Delivered bool `json:"delivered"`
	// LastError is the last attempt's transport error, if any.
	LastError string `json:"last_error,omitempty"`
	// Created is when the event was emitted.
	Created time.Time `json:"created_at"`
}

const (
	maxDeliveries   = 1000
	maxAttempts     = 5
	deliveryTimeout = 5 * time.Second
)

var deliveryMu sync.Mutex // guards Delivery fields written by senders

// emit sends an event to every webhook endpoint, as Clerk does through
// svix: envelope {data, object: "event", type, timestamp, instance_id},
// headers svix-id, svix-timestamp and svix-signature, retried with
// exponential backoff on anything but 2xx.
func (c *Clerk) emit(eventType string, data map[string]any) {
	c.mu.Lock()
	urls := slices.Clone(c.webhooks)
	base := c.retryBase
	c.mu.Unlock()
	if len(urls) == 0 {
		return
	}
	now := c.now()
	body, err := json.Marshal(map[string]any{"data": data, "object": "event", "type": eventType,
		"timestamp": now.UnixMilli(), "instance_id": "ins_" + c.cfg.Name})
	if err != nil {
		return
	}
	wh, err := svix.NewWebhook(c.whsec)
	if err != nil {
		c.log.Error("mockclerk: webhook secret", "err", err)
		return
	}
	for _, u := range urls {
		d := &Delivery{ID: "msg_" + randHex(14), Type: eventType, URL: u, Created: now}
		c.mu.Lock()
		c.deliveries = append(c.deliveries, d)
		if len(c.deliveries) > maxDeliveries {
			c.deliveries = c.deliveries[len(c.deliveries)-maxDeliveries:]
		}
		c.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.deliver(wh, d, body, base)
		}()
	}
}

func (c *Clerk) deliver(wh *svix.Webhook, d *Delivery, body []byte, base time.Duration) {
	client := &http.Client{Timeout: deliveryTimeout}
	delay := base
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		ts := c.now()
		sig, err := wh.Sign(d.ID, ts, body)
		status, errText := 0, ""
		if err == nil {
			req, _ := http.NewRequestWithContext(c.ctx, http.MethodPost, d.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("svix-id", d.ID)
			req.Header.Set("svix-timestamp", strconv.FormatInt(ts.Unix(), 10))
			req.Header.Set("svix-signature", sig)
			resp, err := client.Do(req)
			if err != nil {
				errText = err.Error()
			} else {
				status = resp.StatusCode
				resp.Body.Close()
			}
		} else {
			errText = err.Error()
		}
		deliveryMu.Lock()
		d.Attempts, d.Statuses = attempt, append(d.Statuses, status)
		d.Delivered, d.LastError = status/100 == 2, errText
		done := d.Delivered
		deliveryMu.Unlock()
		if done || attempt == maxAttempts {
			return
		}
		select {
		case <-time.After(delay):
		case <-c.ctx.Done():
			return
		}
		delay *= 2
	}
}

// Deliveries lists the webhook deliveries, oldest first (the last 1,000).
func (c *Clerk) Deliveries() []Delivery {
	c.mu.Lock()
	ds := slices.Clone(c.deliveries)
	c.mu.Unlock()
	out := make([]Delivery, len(ds))
	deliveryMu.Lock()
	for i, d := range ds {
		out[i] = *d
		out[i].Statuses = slices.Clone(d.Statuses)
	}
	deliveryMu.Unlock()
	return out
}
