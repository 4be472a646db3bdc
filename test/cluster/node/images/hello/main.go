// Command hello is the smallest workload the real node runs: it prints who it is (so that
// `kubectl logs` has something to show), answers HTTP on HELLO_PORT (default 8080) with its
// host name and the identity it runs as, and exits cleanly on SIGTERM.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	host, _ := os.Hostname()
	port := os.Getenv("HELLO_PORT")
	if port == "" {
		port = "8080"
	}
	identity := fmt.Sprintf("uid=%d gid=%d", os.Getuid(), os.Getgid())
	log.SetFlags(log.LstdFlags | log.LUTC)
	log.Printf("hello: started on %s as %s, listening on :%s", host, identity, port)

	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s (%s)\n", host, identity)
	})
	server := &http.Server{Addr: ":" + port, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatalf("hello: listen on :%s: %v", port, err)
		}
	}()

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	sig := <-stop
	log.Printf("hello: %v received, shutting down", sig)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = server.Shutdown(ctx)
}
