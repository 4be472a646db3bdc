package main

// The HTTP benchmark's backend (bench/http): one plain HTTP/1.1 server with keep-alive, behind
// every proxy and reached directly for the "direct" column. Go's net/http rather than a
// hand-written parser: the proxies send what real proxies send (chunked bodies, forwarded
// headers, pipelined keep-alive reuse), and the backend must take all of it correctly; it runs
// on the load core, where its cost per request only decides how close to saturation the proxy
// gets, never the per proxy CPU-second figures.
//
// Routes (the contract with bench/http/workloads.ts):
//
//	GET  /small   200, smallBodyBytes of text
//	GET  /big     200, bigBodyBytes (1 MiB) with Content-Length
//	POST /upload  200 once the whole body arrived; X-Bench-Received: the body's byte count
//
// Every answer carries what the request looked like on arrival (X-Bench-Saw-Host,
// X-Bench-Saw-Forwarded-For), so that the orchestrator's routing check can tell that a proxy,
// not a shortcut, delivered it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

type httpBackendsStart struct {
	Type           string `json:"type"`
	Host           string `json:"host"`
	SmallBodyBytes int    `json:"smallBodyBytes"`
	BigBodyBytes   int    `json:"bigBodyBytes"`
}

type httpBackendsReady struct {
	Type string `json:"type"`
	Port int    `json:"port"`
}

type httpBackends struct {
	out     *lineWriter
	started bool
}

func newHTTPBackends(out *lineWriter) *httpBackends { return &httpBackends{out: out} }

func (b *httpBackends) handle(line []byte) error {
	var message httpBackendsStart
	if err := json.Unmarshal(line, &message); err != nil {
		return fmt.Errorf("bad start message: %v", err)
	}
	if message.Type != "start" || b.started {
		return nil
	}
	b.started = true
	if message.SmallBodyBytes <= 0 || message.BigBodyBytes <= 0 {
		return fmt.Errorf("start message: smallBodyBytes (%d) and bigBodyBytes (%d) must be positive", message.SmallBodyBytes, message.BigBodyBytes)
	}
	small := bytes.Repeat([]byte{'s'}, message.SmallBodyBytes)
	big := bytes.Repeat([]byte{'b'}, message.BigBodyBytes)
	smallLength := strconv.Itoa(len(small))
	bigLength := strconv.Itoa(len(big))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /small", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, r, small, smallLength)
	})
	mux.HandleFunc("GET /big", func(w http.ResponseWriter, r *http.Request) {
		writeBody(w, r, big, bigLength)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		received, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			// A body cut short (the proxy or client went away) is not an answer to count.
			http.Error(w, "upload: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Bench-Received", strconv.FormatInt(received, 10))
		writeBody(w, r, small, smallLength)
	})

	listener, err := net.Listen("tcp", net.JoinHostPort(message.Host, "0"))
	if err != nil {
		return fmt.Errorf("http backend: %v", err)
	}
	server := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 60 * time.Second,
		// Proxies keep pooled connections idle between phases; never close them first, so that
		// a proxy's pool is not charged for reconnecting because of the backend.
		IdleTimeout: 0,
		ErrorLog:    nil,
	}
	go func() {
		if err := server.Serve(listener); err != nil {
			fatalf("http backend: %v", err)
		}
	}()
	b.out.send(httpBackendsReady{Type: "ready", Port: listener.Addr().(*net.TCPAddr).Port})
	return nil
}

func writeBody(w http.ResponseWriter, r *http.Request, body []byte, length string) {
	header := w.Header()
	header["Content-Type"] = []string{"text/plain"}
	header["Content-Length"] = []string{length}
	header["X-Bench-Saw-Host"] = []string{r.Host}
	if forwarded := r.Header.Get("X-Forwarded-For"); forwarded != "" {
		header["X-Bench-Saw-Forwarded-For"] = []string{forwarded}
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
