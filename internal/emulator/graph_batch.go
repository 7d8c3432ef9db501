package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// JSON batching (POST /$batch, facts/graph.md §7): up to 20 requests, unique ids, relative
// URLs, dependsOn only on earlier items and either fully parallel or fully sequential, 424 for
// the dependents of a failed item. Each item runs through the same route logic as a direct
// request (serveRoute), so faults, latency, throttling and the request log apply per item.
// The outer answer is 200 whenever the batch itself is well formed.

const maxBatchItems = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// batchHeaders are the item answer headers Graph reports, with its capitalisation (the Go SDK
// looks up "Content-Type" exactly).
var batchHeaders = []string{"Location", "Content-Type", "Cache-Control", "OData-Version", "x-ms-resource-unit", "Retry-After", "x-ms-throttle-information", "x-ms-throttle-scope"}

func (e *Emulator) batch(w http.ResponseWriter, r *http.Request, _ params) {
	raw, err := readGraphBody(r)
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	if err != nil || json.Unmarshal(raw, &in) != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return
	}
	if msg := validateBatch(in.Requests); msg != "" {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", msg)
		return
	}
	answers := make([]batchAnswer, len(in.Requests))
	sequential := false
	for _, it := range in.Requests {
		sequential = sequential || len(it.DependsOn) > 0
	}
	if sequential {
		status := map[string]int{}
		for i, it := range in.Requests {
			failed := ""
			for _, d := range it.DependsOn {
				if s := status[strings.ToLower(d)]; s >= 400 {
					failed = d
				}
			}
			if failed != "" {
				answers[i] = failedDependency(it.ID, failed)
			} else {
				answers[i] = e.runBatchItem(r, it)
			}
			status[strings.ToLower(it.ID)] = answers[i].Status
		}
	} else {
		var wg sync.WaitGroup
		for i, it := range in.Requests {
			wg.Add(1)
			go func() {
				defer wg.Done()
				answers[i] = e.runBatchItem(r, it)
			}()
		}
		wg.Wait()
	}
	writeGraphJSON(w, r, http.StatusOK, map[string]any{"responses": answers})
}

// validateBatch returns why a batch is malformed, or "".
func validateBatch(items []batchItem) string {
	if len(items) == 0 {
		return "Invalid batch payload format."
	}
	if len(items) > maxBatchItems {
		return fmt.Sprintf("Number of requests exceeds the maximum of %d requests allowed in a batch.", maxBatchItems)
	}
	seen := map[string]bool{}
	sequential := false
	for _, it := range items {
		sequential = sequential || len(it.DependsOn) > 0
	}
	for i, it := range items {
		id := strings.ToLower(it.ID)
		switch {
		case it.ID == "":
			return "Request Id is required for every request in the batch."
		case seen[id]:
			return fmt.Sprintf("Request Id '%s' is used more than once; request ids must be unique.", it.ID)
		case it.Method == "" || it.URL == "":
			return fmt.Sprintf("Request '%s' needs a method and a url.", it.ID)
		case strings.Contains(it.URL, "://"):
			return fmt.Sprintf("Request '%s': the url must be relative, e.g. /applications.", it.ID)
		case len(it.Body) > 0 && string(it.Body) != "null" && headerValue(it.Headers, "Content-Type") == "":
			return fmt.Sprintf("Request '%s': a Content-Type header is required when a body is given.", it.ID)
		case sequential && i > 0 && len(it.DependsOn) == 0:
			return "Batch should be either fully sequential or fully parallel."
		}
		for _, d := range it.DependsOn {
			if !seen[strings.ToLower(d)] {
				return fmt.Sprintf("Invalid dependency for request Id '%s': '%s' must be an earlier request in the batch.", it.ID, d)
			}
		}
		seen[id] = true
	}
	return ""
}

func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func failedDependency(id, dep string) batchAnswer {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "FailedDependency", "message": fmt.Sprintf("The request depends on request '%s', which failed.", dep)}})
	return batchAnswer{ID: id, Status: http.StatusFailedDependency, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

// runBatchItem serves one item as a request of its own to the same route table.
func (e *Emulator) runBatchItem(outer *http.Request, it batchItem) (ans batchAnswer) {
	ans.ID = it.ID
	rel := it.URL
	if !strings.HasPrefix(rel, "/") {
		rel = "/" + rel
	}
	var body io.Reader = http.NoBody
	if len(it.Body) > 0 && string(it.Body) != "null" {
		body = bytes.NewReader(it.Body)
	}
	u, err := url.Parse("https://" + outer.Host + "/v1.0" + rel)
	if err != nil {
		return errorAnswer(it.ID, http.StatusBadRequest, "BadRequest", "Invalid request URL: "+it.URL)
	}
	req, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(it.Method), u.String(), body)
	if err != nil {
		return errorAnswer(it.ID, http.StatusBadRequest, "BadRequest", "Invalid request: "+err.Error())
	}
	req.Host = outer.Host
	for _, h := range []string{"Authorization", "client-request-id"} {
		if v := outer.Header.Get(h); v != "" {
			req.Header.Set(h, v)
		}
	}
	for k, v := range it.Headers {
		req.Header.Set(k, v)
	}
	gp := graphPath(strings.TrimPrefix(u.EscapedPath(), "/v1.0"))
	if gp == "/$batch" {
		return errorAnswer(it.ID, http.StatusBadRequest, "BadRequest", "A batch cannot contain another batch.")
	}
	rec := &batchRecorder{header: http.Header{}, status: http.StatusOK}
	x, ps := match(e.graphRoutes, req.Method, gp)
	if x == nil {
		x, ps = &e.unknownGraph, params{"path": gp}
	}
	// A dropped connection cannot happen to one item: the gateway reports it as a timeout.
	defer func() {
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				ans = errorAnswer(it.ID, http.StatusGatewayTimeout, "UnknownError", "The operation timed out.")
				return
			}
			panic(v)
		}
	}()
	e.serveRoute(rec, req, x, ps, gp)
	return rec.answer(it.ID)
}

func errorAnswer(id string, status int, code, msg string) batchAnswer {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	return batchAnswer{ID: id, Status: status, Headers: map[string]string{"Content-Type": "application/json", "Cache-Control": "no-cache"}, Body: body}
}

// batchRecorder captures one item's answer.
type batchRecorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (b *batchRecorder) Header() http.Header { return b.header }
func (b *batchRecorder) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}
func (b *batchRecorder) Write(p []byte) (int, error) {
	b.wrote = true
	return b.body.Write(p)
}

func (b *batchRecorder) answer(id string) batchAnswer {
	a := batchAnswer{ID: id, Status: b.status, Headers: map[string]string{}}
	for _, h := range batchHeaders {
		if v := b.header.Get(h); v != "" {
			a.Headers[h] = v
		}
	}
	if b.body.Len() > 0 {
		if json.Valid(b.body.Bytes()) {
			a.Body = json.RawMessage(bytes.TrimSpace(b.body.Bytes()))
		} else {
			a.Body, _ = json.Marshal(b.body.String())
		}
	}
	return a
}
