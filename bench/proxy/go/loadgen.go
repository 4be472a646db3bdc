package main

// The load generator: the commands of bench/proxy/workloads.ts (LoadCommand), counted as the
// Node.js load generator (bench/proxy/loadgen.ts, `--load-side node`) counts them:
//
//   - every connection's errors are counted once, and the first message is reported;
//   - a connection counts (ops) once `expectBytes` arrived from the backend and its graceful
//     close (FIN; close_notify first over TLS) was answered by the proxy's FIN;
//   - a connection that has not closed closeGrace after the phase ended is closed and counted
//     as an error, so a proxy that never relays a half-close cannot hang the benchmark.
//
// Every connection is one goroutine with blocking reads; Go's poller turns that into an epoll
// loop at a fraction of Node's cost per connection (though with about twice the syscalls a
// hand-written epoll loop would make: docs/performance.md, "Why the load side is not Node.js").

import (
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const closeGrace = 5 * time.Second

// An idle connection being built up for `hold` gets this long to be answered.
const holdAnswerTimeout = 30 * time.Second

type endpoint struct {
	Host string `json:"host"`
	Port int    `json:"port"`
}

type connectionSpec struct {
	Endpoint    endpoint `json:"endpoint"`
	Protocol    string   `json:"protocol"`
	HelloBase64 string   `json:"helloBase64"`
	Servername  string   `json:"servername"`
	ExpectBytes int      `json:"expectBytes"`
}

type loadCommand struct {
	Kind        string         `json:"kind"`
	Connection  connectionSpec `json:"connection"`
	Concurrency int            `json:"concurrency"`
	DurationMs  float64        `json:"durationMs"`
	Connections int            `json:"connections"`
	Count       int            `json:"count"`
}

type loadResult struct {
	Ops        int64     `json:"ops"`
	Bytes      int64     `json:"bytes"`
	Errors     int64     `json:"errors"`
	FirstError string    `json:"firstError,omitempty"`
	ElapsedMs  float64   `json:"elapsedMs"`
	SamplesUs  []float64 `json:"samplesUs,omitempty"`
}

type runMessage struct {
	Type    string      `json:"type"`
	ID      int         `json:"id"`
	Command loadCommand `json:"command"`
}

type resultMessage struct {
	Type   string     `json:"type"`
	ID     int        `json:"id"`
	Result loadResult `json:"result"`
}

type loadgen struct {
	out *lineWriter
	// Connections opened by `hold`, kept idle until `release`.
	heldMu sync.Mutex
	held   []net.Conn
}

func newLoadgen(out *lineWriter) *loadgen { return &loadgen{out: out} }

func (g *loadgen) handle(line []byte) error {
	var message runMessage
	if err := json.Unmarshal(line, &message); err != nil {
		return fmt.Errorf("bad run message: %v", err)
	}
	if message.Type != "run" {
		return nil
	}
	go func() {
		result, err := g.run(message.Command)
		if err != nil {
			fatalf("command %d (%s): %v", message.ID, message.Command.Kind, err)
		}
		g.out.send(resultMessage{Type: "result", ID: message.ID, Result: result})
	}()
	return nil
}

func (g *loadgen) run(command loadCommand) (loadResult, error) {
	if command.Kind == "release" {
		return g.release(), nil
	}
	client, err := newClient(command.Connection)
	if err != nil {
		return loadResult{}, err
	}
	duration := time.Duration(command.DurationMs * float64(time.Millisecond))
	switch command.Kind {
	case "connect-rate":
		return connectRate(client, command.Concurrency, duration), nil
	case "bulk":
		return bulk(client, command.Connections, duration), nil
	case "latency":
		return latency(client, command.Count), nil
	case "hold":
		return g.hold(client, command.Count, command.Concurrency), nil
	}
	return loadResult{}, fmt.Errorf("unknown command kind %q", command.Kind)
}

// errorTally counts errors, one per connection, and keeps the first message.
type errorTally struct {
	mu    sync.Mutex
	count int64
	first string
}

func (t *errorTally) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count++
	if t.count == 1 {
		t.first = err.Error()
	}
}

func (t *errorTally) into(result loadResult) loadResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	result.Errors = t.count
	result.FirstError = t.first
	return result
}

func millisecondsSince(start time.Time) float64 {
	return float64(time.Since(start)) / float64(time.Millisecond)
}

// onGoroutines runs body on n goroutines at once and returns when every one has returned.
func onGoroutines(n int, body func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body()
		}()
	}
	wg.Wait()
}

// client opens connections the way one ConnectionSpec says: raw bytes (the recorded ClientHello
// first, for Passthrough) or a full TLS 1.3 handshake (Terminate).
type client struct {
	address     string
	hello       []byte
	tlsConfig   *tls.Config
	expectBytes int
	dialer      net.Dialer
}

func newClient(spec connectionSpec) (*client, error) {
	c := &client{
		address:     net.JoinHostPort(spec.Endpoint.Host, strconv.Itoa(spec.Endpoint.Port)),
		expectBytes: spec.ExpectBytes,
		// No keep-alive probes: connections live for milliseconds, and it saves a setsockopt.
		dialer: net.Dialer{KeepAlive: -1},
	}
	switch spec.Protocol {
	case "raw":
		hello, err := base64.StdEncoding.DecodeString(spec.HelloBase64)
		if err != nil || len(hello) == 0 {
			return nil, fmt.Errorf("connection.helloBase64: not a recorded ClientHello (%d bytes, %v)", len(hello), err)
		}
		c.hello = hello
	case "tls":
		// TLS 1.3 with an X25519 key share (as Node's client offers first) and no session cache,
		// so every connection is a full handshake. Certificates are checked once by the
		// orchestrator's routing check (verify.ts); the handshake signature is still verified.
		c.tlsConfig = &tls.Config{
			ServerName:         spec.Servername,
			MinVersion:         tls.VersionTLS13,
			MaxVersion:         tls.VersionTLS13,
			CurvePreferences:   []tls.CurveID{tls.X25519},
			InsecureSkipVerify: true,
		}
	default:
		return nil, fmt.Errorf("connection.protocol: %q is neither raw nor tls", spec.Protocol)
	}
	return c, nil
}

// conn is one client connection: the TCP socket and, for TLS, the session over it.
type conn struct {
	tcp *net.TCPConn
	tls *tls.Conn
}

func (c *conn) Read(buffer []byte) (int, error) {
	if c.tls != nil {
		return c.tls.Read(buffer)
	}
	return c.tcp.Read(buffer)
}

// closeWrite ends our side gracefully: close_notify (TLS), then a FIN.
func (c *conn) closeWrite() error {
	if c.tls != nil {
		if err := c.tls.CloseWrite(); err != nil {
			return err
		}
	}
	return c.tcp.CloseWrite()
}

func (c *conn) close() { c.tcp.Close() }

// open connects and, for raw, sends the ClientHello; for TLS, completes the handshake. The
// deadline bounds everything done on the connection until it is changed.
func (cl *client) open(deadline time.Time) (*conn, error) {
	dialer := cl.dialer
	dialer.Deadline = deadline
	raw, err := dialer.Dial("tcp", cl.address)
	if err != nil {
		return nil, err
	}
	c := &conn{tcp: raw.(*net.TCPConn)}
	if !deadline.IsZero() {
		c.tcp.SetDeadline(deadline)
	}
	if cl.tlsConfig == nil {
		if _, err := c.tcp.Write(cl.hello); err != nil {
			c.close()
			return nil, err
		}
		return c, nil
	}
	c.tls = tls.Client(c.tcp, cl.tlsConfig)
	if err := c.tls.Handshake(); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// readExpected reads until the backend's `expectBytes` arrived; first reports the first byte's time.
func (cl *client) readExpected(c *conn, buffer []byte, first func()) error {
	received := 0
	for received < cl.expectBytes {
		n, err := c.Read(buffer)
		if n > 0 && received == 0 && first != nil {
			first()
		}
		received += n
		if err == io.EOF {
			if received >= cl.expectBytes {
				return nil
			}
			return fmt.Errorf("connection closed after %d of %d expected bytes", received, cl.expectBytes)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// finish closes our side and waits for the proxy's FIN (it relays the backend's end).
func finish(c *conn, buffer []byte) error {
	if err := c.closeWrite(); err != nil {
		return err
	}
	for {
		_, err := c.Read(buffer)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// describe turns a deadline into what it means for the phase.
func describe(err error, timeout string) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return errors.New(timeout)
	}
	return err
}

// connectRate opens connections back to back, `concurrency` at a time, for `duration`, and
// counts full lifecycles: connect, ClientHello or handshake, the expected answer, a graceful close.
func connectRate(cl *client, concurrency int, duration time.Duration) loadResult {
	var errs errorTally
	var ops atomic.Int64
	start := time.Now()
	stopAt := start.Add(duration)
	deadline := stopAt.Add(closeGrace)
	onGoroutines(concurrency, func() {
		buffer := make([]byte, 16*1024)
		for time.Now().Before(stopAt) {
			if err := cl.lifecycle(buffer, deadline, nil); err != nil {
				errs.add(describe(err, "connection still open after the phase ended"))
			} else {
				ops.Add(1)
			}
		}
	})
	return errs.into(loadResult{Ops: ops.Load(), ElapsedMs: millisecondsSince(start)})
}

// lifecycle is one whole connection; only one that ends without an error counts: one whose
// close was not relayed is an error, not an op. first (may be nil) is told of the first byte.
func (cl *client) lifecycle(buffer []byte, deadline time.Time, first func()) error {
	c, err := cl.open(deadline)
	if err != nil {
		return err
	}
	defer c.close()
	if err := cl.readExpected(c, buffer, first); err != nil {
		return err
	}
	return finish(c, buffer)
}

// bulk keeps `connections` streams open for `duration` and counts the bytes the backends send.
func bulk(cl *client, connections int, duration time.Duration) loadResult {
	var errs errorTally
	var total atomic.Int64
	start := time.Now()
	stopAt := start.Add(duration)
	onGoroutines(connections, func() {
		// The phase ends at the deadline: a read that times out is the normal end.
		c, err := cl.open(stopAt)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				errs.add(err)
			}
			return
		}
		defer c.close()
		buffer := make([]byte, 256*1024)
		var received int64
		defer func() { total.Add(received) }()
		for {
			n, err := c.Read(buffer)
			received += int64(n)
			switch {
			case err == nil:
			case errors.Is(err, os.ErrDeadlineExceeded):
				return
			case err == io.EOF:
				errs.add(errors.New("bulk connection closed before the phase ended"))
				return
			default:
				errs.add(err)
				return
			}
		}
	})
	return errs.into(loadResult{Ops: int64(connections), Bytes: total.Load(), ElapsedMs: float64(duration) / float64(time.Millisecond)})
}

// latency opens one connection at a time and samples connect -> the backend's first byte.
func latency(cl *client, count int) loadResult {
	var errs errorTally
	samples := make([]float64, 0, count)
	buffer := make([]byte, 16*1024)
	start := time.Now()
	for range count {
		t0 := time.Now()
		first := func() { samples = append(samples, float64(time.Since(t0))/float64(time.Microsecond)) }
		if err := cl.lifecycle(buffer, t0.Add(closeGrace), first); err != nil {
			errs.add(describe(err, "no answer within the grace period"))
		}
	}
	return errs.into(loadResult{Ops: int64(len(samples)), ElapsedMs: millisecondsSince(start), SamplesUs: samples})
}

// hold opens `count` connections, `concurrency` at a time, each answered by the backend, and
// keeps them idle (no reader: an idle connection costs the load side nothing) until release.
func (g *loadgen) hold(cl *client, count, concurrency int) loadResult {
	var errs errorTally
	var opened atomic.Int64
	var launched atomic.Int64
	start := time.Now()
	onGoroutines(min(concurrency, count), func() {
		buffer := make([]byte, 16*1024)
		for launched.Add(1) <= int64(count) {
			c, err := cl.open(time.Now().Add(holdAnswerTimeout))
			if err == nil {
				err = cl.readExpected(c, buffer, nil)
				if err != nil {
					c.close()
				}
			}
			if err != nil {
				errs.add(describe(err, "no answer within the hold timeout"))
				continue
			}
			c.tcp.SetDeadline(time.Time{})
			opened.Add(1)
			g.heldMu.Lock()
			g.held = append(g.held, c.tcp)
			g.heldMu.Unlock()
		}
	})
	return errs.into(loadResult{Ops: opened.Load(), ElapsedMs: millisecondsSince(start)})
}

func (g *loadgen) release() loadResult {
	start := time.Now()
	g.heldMu.Lock()
	held := g.held
	g.held = nil
	g.heldMu.Unlock()
	for _, c := range held {
		c.Close()
	}
	return loadResult{Ops: int64(len(held)), ElapsedMs: millisecondsSince(start)}
}
