// The proxy benchmark's load side: a load generator and the backends, in Go with the standard
// library only, so that the load core costs little per connection and the proxy under test (on
// its own core) becomes the bottleneck. The Node.js load side used most of a core for the same
// work and left every proxy at 43-68 % of its core (docs/performance.md, "What runs").
//
// One binary, two roles, each spoken to over stdin/stdout in JSON lines with the message shapes
// of bench/proxy/workloads.ts:
//
//	tlsgate-bench-loadgen loadgen    {"type":"run","id":N,"command":LoadCommand} -> {"type":"result","id":N,"result":LoadResult}
//	tlsgate-bench-loadgen backends   {"type":"start",...BackendsStartMessage}   -> {"type":"ready","ports":BackendPorts}
//
// and, for bench/http (`npm run bench:http`, message shapes in bench/http/workloads.ts):
//
//	tlsgate-bench-loadgen http-loadgen   {"type":"run","id":N,"command":HttpLoadCommand} -> {"type":"result","id":N,"result":LoadResult}
//	tlsgate-bench-loadgen http-backends  {"type":"start",...HttpBackendStartMessage}     -> {"type":"ready","port":N}
//
// {"type":"stop"} or the end of stdin (the orchestrator went away) ends either role.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
)

func main() {
	roles := map[string]func(out *lineWriter) func(line []byte) error{
		"loadgen":       func(out *lineWriter) func([]byte) error { return newLoadgen(out).handle },
		"backends":      func(out *lineWriter) func([]byte) error { return newBackends(out).handle },
		"http-loadgen":  func(out *lineWriter) func([]byte) error { return newHTTPLoadgen(out).handle },
		"http-backends": func(out *lineWriter) func([]byte) error { return newHTTPBackends(out).handle },
	}
	var role func(out *lineWriter) func(line []byte) error
	if len(os.Args) == 2 {
		role = roles[os.Args[1]]
	}
	if role == nil {
		fmt.Fprintln(os.Stderr, "usage: tlsgate-bench-loadgen loadgen|backends|http-loadgen|http-backends (JSON lines on stdin and stdout)")
		os.Exit(2)
	}
	out := &lineWriter{w: bufio.NewWriter(os.Stdout)}
	handle := role(out)
	in := bufio.NewScanner(os.Stdin)
	// A start message carries two certificates and keys: a few KiB; allow much more.
	in.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for in.Scan() {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(in.Bytes(), &head); err != nil {
			fatalf("bad message on stdin: %v", err)
		}
		if head.Type == "stop" {
			os.Exit(0)
		}
		// The scanner reuses its buffer; handlers may keep the line past this iteration.
		line := append([]byte(nil), in.Bytes()...)
		if err := handle(line); err != nil {
			fatalf("%v", err)
		}
	}
	if err := in.Err(); err != nil && err != io.EOF {
		fatalf("reading stdin: %v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", os.Args[1], fmt.Sprintf(format, args...))
	os.Exit(1)
}

// lineWriter writes one JSON message per line; results of concurrent commands do not interleave.
type lineWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lineWriter) send(message any) {
	data, err := json.Marshal(message)
	if err != nil {
		fatalf("encoding a reply: %v", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(data)
	l.w.WriteByte('\n')
	if err := l.w.Flush(); err != nil {
		fatalf("writing stdout: %v", err)
	}
}
