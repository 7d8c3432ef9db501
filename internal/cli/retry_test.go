package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRetryGets(t *testing.T) {
	var gets, posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if gets.Add(1) < 3 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c := &http.Client{Transport: withGetRetries(nil)}
	resp, err := c.Get(srv.URL)
	if err != nil || resp.StatusCode != 200 || gets.Load() != 3 {
		t.Fatalf("GET after two 429s: %v %v, %d tries", resp, err, gets.Load())
	}
	resp.Body.Close()
	resp, err = c.Post(srv.URL, "text/plain", strings.NewReader("code=x"))
	if err != nil || resp.StatusCode != 503 || posts.Load() != 1 {
		t.Fatalf("a POST was retried: %d tries", posts.Load())
	}
	resp.Body.Close()
}
