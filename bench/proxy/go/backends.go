package main

// The benchmark's backends, with the behaviour of the Node backends they replace: on the load
// core, every byte they spend is a byte the proxy does not get measured against, so they must
// be cheap. See bench/proxy/workloads.ts for what each workload means.

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

const (
	tlsHandshake       = 0x16
	tlsApplicationData = 0x17
	// What bulk backends write, over and over: 256 KiB per write keeps the syscall count low.
	bulkWriteBytes = 256 * 1024
)

type pemPair struct {
	CertificatePem string `json:"certificatePem"`
	PrivateKeyPem  string `json:"privateKeyPem"`
}

type startMessage struct {
	Type               string  `json:"type"`
	Host               string  `json:"host"`
	GatewayCertificate pemPair `json:"gatewayCertificate"`
	BackendCertificate pemPair `json:"backendCertificate"`
	TermGreeting       string  `json:"termGreeting"`
	PassHelloAnswer    int     `json:"passHelloAnswerBytes"`
}

type readyMessage struct {
	Type  string         `json:"type"`
	Ports map[string]int `json:"ports"`
}

// tlsRecords frames `total` bytes as TLS records of `contentType`, as tlsRecords() in workloads.ts.
func tlsRecords(contentType byte, total int) []byte {
	var out bytes.Buffer
	for remaining := total; remaining > 0; {
		payload := min(16384, max(1, remaining-5))
		out.Write([]byte{contentType, 0x03, 0x03, byte(payload >> 8), byte(payload)})
		out.Write(bytes.Repeat([]byte{0x61}, payload))
		remaining -= 5 + payload
	}
	return out.Bytes()
}

type backends struct {
	out             *lineWriter
	passHelloAnswer []byte
	bulkRecords     []byte
	plainBulk       []byte
	termGreeting    []byte
	started         bool
}

func newBackends(out *lineWriter) *backends {
	return &backends{
		out:         out,
		bulkRecords: tlsRecords(tlsApplicationData, bulkWriteBytes),
		plainBulk:   bytes.Repeat([]byte{0x62}, bulkWriteBytes),
	}
}

func (b *backends) handle(line []byte) error {
	var message startMessage
	if err := json.Unmarshal(line, &message); err != nil {
		return fmt.Errorf("bad start message: %v", err)
	}
	if message.Type != "start" || b.started {
		return nil
	}
	b.started = true
	// Both come from bench/proxy/workloads.ts, so the two languages cannot drift apart.
	if message.PassHelloAnswer <= 0 || message.TermGreeting == "" {
		return fmt.Errorf("start message: passHelloAnswerBytes (%d) and termGreeting (%q) must be set", message.PassHelloAnswer, message.TermGreeting)
	}
	b.passHelloAnswer = tlsRecords(tlsHandshake, message.PassHelloAnswer)
	b.termGreeting = []byte(message.TermGreeting)
	gateway, err := tlsServerConfig(message.GatewayCertificate, "gatewayCertificate")
	if err != nil {
		return err
	}
	backend, err := tlsServerConfig(message.BackendCertificate, "backendCertificate")
	if err != nil {
		return err
	}
	servers := []struct {
		name   string
		tls    *tls.Config
		handle func(net.Conn)
	}{
		{"passHello", nil, b.passHello},
		{"passBulk", nil, b.passBulk},
		{"passTls", backend, b.passTLS},
		{"termHello", nil, b.termHello},
		{"termBulk", nil, b.termBulk},
		// "Direct" for Terminate work: the client does TLS with a server that is itself the backend.
		{"directTermHello", gateway, b.termHello},
		{"directTermBulk", gateway, b.termBulk},
	}
	ports := map[string]int{}
	for _, server := range servers {
		listener, err := net.Listen("tcp", net.JoinHostPort(message.Host, "0"))
		if err != nil {
			return fmt.Errorf("%s backend: %v", server.name, err)
		}
		ports[server.name] = listener.Addr().(*net.TCPAddr).Port
		go serve(server.name, listener, server.tls, server.handle)
	}
	b.out.send(readyMessage{Type: "ready", Ports: ports})
	return nil
}

func tlsServerConfig(pair pemPair, field string) (*tls.Config, error) {
	certificate, err := tls.X509KeyPair([]byte(pair.CertificatePem), []byte(pair.PrivateKeyPem))
	if err != nil {
		// Never the PEM itself: it holds the private key.
		return nil, fmt.Errorf("start message: %s: %v", field, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{certificate}, MinVersion: tls.VersionTLS12}, nil
}

func serve(name string, listener net.Listener, config *tls.Config, handle func(net.Conn)) {
	for {
		c, err := listener.Accept()
		if err != nil {
			// Out of descriptors during the memory phase, say: wait instead of spinning.
			logf("%s backend: accept: %v", name, err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if config != nil {
			c = tls.Server(c, config)
		}
		go handle(c)
	}
}

// Accept errors come in bursts (one per retry); one line a second says enough.
var (
	logMu         sync.Mutex
	lastAcceptLog time.Time
)

func logf(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	if time.Since(lastAcceptLog) < time.Second {
		return
	}
	lastAcceptLog = time.Now()
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// endGracefully answers the peer's end with ours: close_notify over TLS, then a FIN.
func endGracefully(c net.Conn) {
	if t, ok := c.(*tls.Conn); ok {
		t.CloseWrite()
		c = t.NetConn()
	}
	if t, ok := c.(*net.TCPConn); ok {
		t.CloseWrite()
	}
}

// passHello answers the first bytes (the ClientHello) with a server flight, then waits for the end.
func (b *backends) passHello(c net.Conn) {
	defer c.Close()
	buffer := make([]byte, 4096)
	if n, err := c.Read(buffer); n == 0 || err != nil {
		return
	}
	if _, err := c.Write(b.passHelloAnswer); err != nil {
		return
	}
	if _, err := io.CopyBuffer(io.Discard, c, buffer); err == nil {
		endGracefully(c)
	}
}

// pump streams `chunk` as fast as the peer reads it, until the peer ends or goes away.
func pump(c net.Conn, chunk []byte) {
	defer c.Close()
	go func() {
		io.Copy(io.Discard, c)
		c.Close() // the peer's end (or an error) ends the stream, as Node's destroy() did
	}()
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

func (b *backends) passBulk(c net.Conn) {
	buffer := make([]byte, 4096)
	if n, err := c.Read(buffer); n == 0 || err != nil {
		c.Close()
		return
	}
	pump(c, b.bulkRecords)
}

func (b *backends) termHello(c net.Conn) {
	defer c.Close()
	if _, err := c.Write(b.termGreeting); err != nil {
		return
	}
	if _, err := io.Copy(io.Discard, c); err == nil {
		endGracefully(c)
	}
}

func (b *backends) termBulk(c net.Conn) { pump(c, b.plainBulk) }

// passTLS is the real TLS backend behind the Passthrough listener: it tells the client the SNI it saw.
func (b *backends) passTLS(c net.Conn) {
	defer c.Close()
	t := c.(*tls.Conn)
	if err := t.Handshake(); err != nil {
		return
	}
	sni := t.ConnectionState().ServerName
	if sni == "" {
		sni = "(none)"
	}
	if _, err := fmt.Fprintf(t, "tls backend: sni=%s\n", sni); err != nil {
		return
	}
	if _, err := io.Copy(io.Discard, t); err == nil {
		endGracefully(t)
	}
}
