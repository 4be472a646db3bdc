package main

// The HTTP benchmark's load generator (bench/http, message shapes in bench/http/workloads.ts).
// Requests are written as prepared bytes and answers read with net/http's response parser, so
// that a request costs the load core a few microseconds and any framing a proxy chooses
// (Content-Length or chunked) is read correctly. A request counts (ops) only when its answer
// was 200 with exactly the expected body length; anything else counts once as an error, with
// the first message kept.
//
// Kinds of command:
//
//   - closed: `connections` clients, each sending its next request as soon as the answer
//     arrived, for `durationMs` (keep-alive, or a new connection per request);
//   - sequential: one client, `count` requests one at a time; each sample is request → answer;
//   - open: a constant arrival rate (`ratePerSecond`) for `durationMs`, served by
//     `connections` keep-alive clients; each sample runs from the request's *scheduled* start,
//     so time spent waiting for a free connection or a late proxy counts (no coordinated
//     omission).

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type httpRequestSpec struct {
	Endpoint        endpoint `json:"endpoint"`
	TLS             bool     `json:"tls"`
	Servername      string   `json:"servername"`
	Host            string   `json:"host"`
	Method          string   `json:"method"`
	Path            string   `json:"path"`
	UploadBytes     int      `json:"uploadBytes"`
	ExpectBodyBytes int64    `json:"expectBodyBytes"`
	// One request per connection: TLS handshake (when TLS), request, answer, close.
	NewConnectionPerRequest bool `json:"newConnectionPerRequest"`
}

type httpLoadCommand struct {
	Kind          string          `json:"kind"`
	Request       httpRequestSpec `json:"request"`
	Connections   int             `json:"connections"`
	DurationMs    float64         `json:"durationMs"`
	RatePerSecond float64         `json:"ratePerSecond"`
	Count         int             `json:"count"`
}

type httpRunMessage struct {
	Type    string          `json:"type"`
	ID      int             `json:"id"`
	Command httpLoadCommand `json:"command"`
}

type httpLoadgen struct{ out *lineWriter }

func newHTTPLoadgen(out *lineWriter) *httpLoadgen { return &httpLoadgen{out: out} }

func (g *httpLoadgen) handle(line []byte) error {
	var message httpRunMessage
	if err := json.Unmarshal(line, &message); err != nil {
		return fmt.Errorf("bad run message: %v", err)
	}
	if message.Type != "run" {
		return nil
	}
	go func() {
		result, err := runHTTP(message.Command)
		if err != nil {
			fatalf("command %d (%s): %v", message.ID, message.Command.Kind, err)
		}
		g.out.send(resultMessage{Type: "result", ID: message.ID, Result: result})
	}()
	return nil
}

func runHTTP(command httpLoadCommand) (loadResult, error) {
	client, err := newHTTPClient(command.Request)
	if err != nil {
		return loadResult{}, err
	}
	duration := time.Duration(command.DurationMs * float64(time.Millisecond))
	switch command.Kind {
	case "closed":
		if command.Connections < 1 {
			return loadResult{}, errors.New("closed: connections must be at least 1")
		}
		return httpClosed(client, command.Connections, duration), nil
	case "sequential":
		return httpSequential(client, command.Count), nil
	case "open":
		if command.Connections < 1 || command.RatePerSecond <= 0 {
			return loadResult{}, fmt.Errorf("open: connections (%d) and ratePerSecond (%g) must be positive", command.Connections, command.RatePerSecond)
		}
		return httpOpen(client, command.Connections, command.RatePerSecond, duration), nil
	}
	return loadResult{}, fmt.Errorf("unknown command kind %q", command.Kind)
}

type httpClient struct {
	spec      httpRequestSpec
	address   string
	request   []byte // head and body, written with one call
	tlsConfig *tls.Config
	dialer    net.Dialer
}

func newHTTPClient(spec httpRequestSpec) (*httpClient, error) {
	if spec.Method == "" || !strings.HasPrefix(spec.Path, "/") || spec.Host == "" {
		return nil, fmt.Errorf("request: method (%q), path (%q) and host (%q) must be set, the path starting with /", spec.Method, spec.Path, spec.Host)
	}
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tlsgate-bench\r\n", spec.Method, spec.Path, spec.Host)
	if spec.UploadBytes > 0 {
		fmt.Fprintf(&head, "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n", spec.UploadBytes)
	}
	if spec.NewConnectionPerRequest {
		head.WriteString("Connection: close\r\n")
	}
	head.WriteString("\r\n")
	request := make([]byte, 0, head.Len()+spec.UploadBytes)
	request = append(request, head.String()...)
	for range spec.UploadBytes {
		request = append(request, 'u')
	}
	c := &httpClient{
		spec:    spec,
		address: net.JoinHostPort(spec.Endpoint.Host, strconv.Itoa(spec.Endpoint.Port)),
		request: request,
		dialer:  net.Dialer{KeepAlive: -1},
	}
	if spec.TLS {
		// As the proxy benchmark's client: TLS 1.3, X25519, no session cache (every handshake is
		// full), HTTP/1.1 by ALPN; the chain is checked once by the orchestrator (verify.ts).
		c.tlsConfig = &tls.Config{
			ServerName:         spec.Servername,
			MinVersion:         tls.VersionTLS13,
			MaxVersion:         tls.VersionTLS13,
			CurvePreferences:   []tls.CurveID{tls.X25519},
			NextProtos:         []string{"http/1.1"},
			InsecureSkipVerify: true,
		}
	}
	return c, nil
}

type httpConn struct {
	net.Conn
	reader *bufio.Reader
}

func (cl *httpClient) dial(deadline time.Time) (*httpConn, error) {
	dialer := cl.dialer
	dialer.Deadline = deadline
	raw, err := dialer.Dial("tcp", cl.address)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(deadline)
	conn := raw
	if cl.tlsConfig != nil {
		session := tls.Client(raw, cl.tlsConfig)
		if err := session.Handshake(); err != nil {
			raw.Close()
			return nil, err
		}
		conn = session
	}
	return &httpConn{Conn: conn, reader: bufio.NewReaderSize(conn, 16*1024)}, nil
}

// roundTrip sends the request and reads the whole answer; reusable tells whether the
// connection may carry the next request.
func (cl *httpClient) roundTrip(c *httpConn) (bodyBytes int64, reusable bool, err error) {
	if _, err := c.Write(cl.request); err != nil {
		return 0, false, err
	}
	response, err := http.ReadResponse(c.reader, nil)
	if err != nil {
		return 0, false, err
	}
	bodyBytes, err = io.Copy(io.Discard, response.Body)
	response.Body.Close()
	if err != nil {
		return bodyBytes, false, err
	}
	if response.StatusCode != http.StatusOK {
		return bodyBytes, false, fmt.Errorf("status %d (%s)", response.StatusCode, strings.TrimSpace(response.Header.Get("Content-Type")))
	}
	if bodyBytes != cl.spec.ExpectBodyBytes {
		return bodyBytes, false, fmt.Errorf("body of %d bytes, expected %d", bodyBytes, cl.spec.ExpectBodyBytes)
	}
	return bodyBytes, !response.Close && !cl.spec.NewConnectionPerRequest, nil
}

// errorPause keeps a target that refuses everything from turning the load core into a spin loop.
const errorPause = 10 * time.Millisecond

// exchanger is one client's connection across requests: it dials when it has none and drops
// the connection when the answer said so (or on any error).
type exchanger struct {
	cl   *httpClient
	conn *httpConn
}

func (e *exchanger) exchange(deadline time.Time) (int64, error) {
	if e.conn == nil {
		conn, err := e.cl.dial(deadline)
		if err != nil {
			return 0, err
		}
		e.conn = conn
	}
	body, reusable, err := e.cl.roundTrip(e.conn)
	if err != nil || !reusable {
		e.close()
	}
	return body, err
}

func (e *exchanger) close() {
	if e.conn != nil {
		e.conn.Close()
		e.conn = nil
	}
}

func (cl *httpClient) bytesPerRequest(body int64) int64 { return body + int64(cl.spec.UploadBytes) }

func httpClosed(cl *httpClient, connections int, duration time.Duration) loadResult {
	var errs errorTally
	var ops, bytes atomic.Int64
	start := time.Now()
	stopAt := start.Add(duration)
	deadline := stopAt.Add(closeGrace)
	onGoroutines(connections, func() {
		e := &exchanger{cl: cl}
		defer e.close()
		for time.Now().Before(stopAt) {
			body, err := e.exchange(deadline)
			if err != nil {
				errs.add(describe(err, "no answer within the grace period after the phase"))
				time.Sleep(errorPause)
				continue
			}
			ops.Add(1)
			bytes.Add(cl.bytesPerRequest(body))
		}
	})
	return errs.into(loadResult{Ops: ops.Load(), Bytes: bytes.Load(), ElapsedMs: millisecondsSince(start)})
}

func httpSequential(cl *httpClient, count int) loadResult {
	var errs errorTally
	samples := make([]float64, 0, count)
	var bytes int64
	e := &exchanger{cl: cl}
	defer e.close()
	start := time.Now()
	for range count {
		t0 := time.Now()
		body, err := e.exchange(t0.Add(closeGrace))
		if err != nil {
			errs.add(describe(err, "no answer within the grace period"))
			continue
		}
		samples = append(samples, float64(time.Since(t0))/float64(time.Microsecond))
		bytes += cl.bytesPerRequest(body)
	}
	return errs.into(loadResult{Ops: int64(len(samples)), Bytes: bytes, ElapsedMs: millisecondsSince(start), SamplesUs: samples})
}

// httpOpen sends requests at a constant rate. Scheduled starts are handed to `connections`
// clients through a queue; a request waits there when every client is busy, and that wait is
// part of its latency. A request not started within closeGrace after the phase counts as an
// error (the target fell that far behind).
func httpOpen(cl *httpClient, connections int, rate float64, duration time.Duration) loadResult {
	total := int(rate * duration.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	// Go's own timers wake about 1 ms late here (the poller waits in whole milliseconds), which
	// would put every request ~1 ms behind its schedule. The scheduler sleeps with nanosleep on
	// a thread of its own instead; a second P lets the clients run meanwhile.
	previous := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(previous)

	var errs errorTally
	var bytes atomic.Int64
	var samplesMu sync.Mutex
	samples := make([]float64, 0, total)
	queue := make(chan time.Time, total)
	clients := make([]*exchanger, connections)
	start := time.Now()
	// Connections are opened before the schedule starts: connecting is not what is measured.
	for i := range clients {
		clients[i] = &exchanger{cl: cl}
		conn, err := cl.dial(start.Add(closeGrace))
		if err != nil {
			errs.add(err)
			continue
		}
		clients[i].conn = conn
	}
	scheduleStart := time.Now()
	stopAt := scheduleStart.Add(duration)
	deadline := stopAt.Add(closeGrace)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := range total {
			at := scheduleStart.Add(time.Duration(i) * interval)
			if wait := time.Until(at); wait > 0 {
				pause := syscall.NsecToTimespec(int64(wait))
				syscall.Nanosleep(&pause, nil)
			}
			queue <- at
		}
		close(queue)
	}()
	var wg sync.WaitGroup
	for _, e := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer e.close()
			for at := range queue {
				if time.Now().After(deadline) {
					errs.add(errors.New("request not started within the grace period after the phase (the target fell behind the arrival rate)"))
					continue
				}
				body, err := e.exchange(deadline)
				if err != nil {
					errs.add(describe(err, "no answer within the grace period after the phase"))
					continue
				}
				latency := float64(time.Since(at)) / float64(time.Microsecond)
				bytes.Add(cl.bytesPerRequest(body))
				samplesMu.Lock()
				samples = append(samples, latency)
				samplesMu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs.into(loadResult{Ops: int64(len(samples)), Bytes: bytes.Load(), ElapsedMs: float64(duration) / float64(time.Millisecond), SamplesUs: samples})
}
