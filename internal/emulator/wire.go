package emulator

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"time"
)

// Graph's response content type for JSON bodies.
const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// graphHeaders sets the headers Graph puts on every answer; it returns the request-id.
func graphHeaders(w http.ResponseWriter, r *http.Request) string {
	h := w.Header()
	if id := h.Get("request-id"); id != "" {
		return id
	}
	reqID := NewGUID()
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = reqID
	}
	h.Set("request-id", reqID)
	h.Set("client-request-id", crid)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Local Emulator","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"EMULATOR"}}`)
	h.Set("Cache-Control", "no-cache")
	h.Set("OData-Version", "4.0")
	h.Set("Strict-Transport-Security", "max-age=31536000")
	return reqID
}

// writeGraphJSON answers with a Graph JSON body.
func writeGraphJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	graphHeaders(w, r)
	ct := graphContentType
	if noMetadata(r) {
		body, ct = withoutControlInfo(body), graphContentTypeNoMetadata
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}

// writeGraphNoContent answers 204 with no body and no Content-Type, as Graph does.
func writeGraphNoContent(w http.ResponseWriter, r *http.Request) {
	graphHeaders(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// GraphErrorDetail is one entry of error.details.
type GraphErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

// writeGraphError answers with Graph's OData error envelope; innerError.date has no time zone.
func writeGraphError(w http.ResponseWriter, r *http.Request, status int, code, message string, details ...GraphErrorDetail) {
	reqID := graphHeaders(w, r)
	type inner struct {
		Date            string `json:"date"`
		RequestID       string `json:"request-id"`
		ClientRequestID string `json:"client-request-id"`
	}
	type body struct {
		Code       string             `json:"code"`
		Message    string             `json:"message"`
		InnerError inner              `json:"innerError"`
		Details    []GraphErrorDetail `json:"details,omitempty"`
	}
	b := struct {
		Error body `json:"error"`
	}{body{Code: code, Message: message, Details: details, InnerError: inner{
		Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
		RequestID:       reqID,
		ClientRequestID: w.Header().Get("client-request-id"),
	}}}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(b)
}

// readGraphBody reads a request body, inflating gzip (the Go SDK compresses every body).
func readGraphBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, 4<<20)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		rd = io.LimitReader(zr, 16<<20)
	}
	return io.ReadAll(rd)
}

// aadstsError is an Entra STS error: the AADSTS code, its text and the trace fields.
type aadstsError struct {
	Code          int
	Text          string
	TraceID       string
	CorrelationID string
	Timestamp     string
}

func aadsts(now time.Time, code int, text string) aadstsError {
	return aadstsError{Code: code, Text: text, TraceID: NewGUID(), CorrelationID: NewGUID(), Timestamp: now.UTC().Format("2006-01-02 15:04:05Z")}
}

// Description is error_description as Entra writes it.
func (a aadstsError) Description() string {
	return fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", a.Code, a.Text, a.TraceID, a.CorrelationID, a.Timestamp)
}

// writeOAuthError answers a token-endpoint error in Entra's shape.
func writeOAuthError(w http.ResponseWriter, status int, errCode string, a aadstsError, extra ...[2]string) {
	body := map[string]any{
		"error":             errCode,
		"error_description": a.Description(),
		"error_codes":       []int{a.Code},
		"timestamp":         a.Timestamp,
		"trace_id":          a.TraceID,
		"correlation_id":    a.CorrelationID,
		"error_uri":         fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", a.Code),
	}
	for _, kv := range extra {
		body[kv[0]] = kv[1]
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
