package localserver

import "context"

// Server is a running local API server (dynalite or moto_server); Close
// stops it and everything it started.
type Server struct {
	*Process
	endpoint string
}

// Endpoint is the server's URL, such as http://127.0.0.1:43121.
func (s *Server) Endpoint() string { return s.endpoint }

// closeWith closes the server when ctx is cancelled.
func (s *Server) closeWith(ctx context.Context) {
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.Done():
		}
	}()
}
