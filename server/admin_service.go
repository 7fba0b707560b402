package server

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/breaker"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// MaxForceTTL bounds an override so a forgotten one cannot pin a breaker
// for good; cmd/astraguard holds a restored override to it too.
const MaxForceTTL = 24 * time.Hour

// AdminService implements astraguard.v1.BreakerAdmin over a registry.
type AdminService struct {
	astraguardv1.UnimplementedBreakerAdminServer
	breakers *breaker.Registry
	hub      *Hub
	logger   *slog.Logger
	key      ClientKeyFunc // tells WatchBreakers clients apart
}

var _ astraguardv1.BreakerAdminServer = (*AdminService)(nil)

// NewAdminService returns the admin service. hub must observe every breaker
// of breakers (breaker.WithObserver(hub.Publish) on the registry) for
// WatchBreakers to see transitions.
func NewAdminService(breakers *breaker.Registry, hub *Hub, logger *slog.Logger) *AdminService {
	return &AdminService{breakers: breakers, hub: hub, logger: logger, key: PeerIP}
}

// applyLimits sets the watch limits of cfg, telling clients apart by key;
// New calls it before serving.
func (s *AdminService) applyLimits(cfg Config, key ClientKeyFunc, m *limitMetrics) {
	if key != nil {
		s.key = key
	}
	s.hub.setLimits(newWatchSlots(cfg.MaxWatchStreams, cfg.MaxWatchStreamsPerClient), m)
}

// ListBreakers returns every breaker, sorted by name.
func (s *AdminService) ListBreakers(context.Context, *astraguardv1.ListBreakersRequest) (*astraguardv1.ListBreakersResponse, error) {
	return s.list(nil), nil
}

func (s *AdminService) list(names []string) *astraguardv1.ListBreakersResponse {
	resp := &astraguardv1.ListBreakersResponse{}
	for _, snap := range s.breakers.Snapshot() {
		if len(names) == 0 || slices.Contains(names, snap.Name) {
			resp.Breakers = append(resp.Breakers, breakerToProto(snap))
		}
	}
	return resp
}

// GetBreaker returns one breaker.
func (s *AdminService) GetBreaker(_ context.Context, req *astraguardv1.GetBreakerRequest) (*astraguardv1.GetBreakerResponse, error) {
	b, err := s.lookup(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &astraguardv1.GetBreakerResponse{Breaker: breakerToProto(b.Snapshot())}, nil
}

// ResetBreaker closes a breaker with fresh counts and clears any override.
func (s *AdminService) ResetBreaker(ctx context.Context, req *astraguardv1.ResetBreakerRequest) (*astraguardv1.ResetBreakerResponse, error) {
	b, err := s.lookup(req.GetName())
	if err == nil {
		err = checkAdminString("reason", req.GetReason(), false)
	}
	if err != nil {
		return nil, toStatus(err)
	}
	b.ResetFor(req.GetReason())
	s.audit(ctx, "reset", req.GetName(), req.GetReason())
	return &astraguardv1.ResetBreakerResponse{Breaker: breakerToProto(b.Snapshot())}, nil
}

// ForceBreaker sets or clears an operator override.
func (s *AdminService) ForceBreaker(ctx context.Context, req *astraguardv1.ForceBreakerRequest) (*astraguardv1.ForceBreakerResponse, error) {
	b, err := s.lookup(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	if req.GetOverride() == astraguardv1.Override_OVERRIDE_UNSPECIFIED {
		if err := checkAdminString("reason", req.GetReason(), false); err != nil {
			return nil, toStatus(err)
		}
		b.ClearForce()
		s.audit(ctx, "clear override", req.GetName(), req.GetReason())
		return &astraguardv1.ForceBreakerResponse{Breaker: breakerToProto(b.Snapshot())}, nil
	}
	ttl, err := validateForce(req)
	if err != nil {
		return nil, toStatus(err)
	}
	switch req.GetOverride() {
	case astraguardv1.Override_OVERRIDE_FORCED_OPEN:
		b.ForceOpen(req.GetReason(), ttl)
	case astraguardv1.Override_OVERRIDE_FORCED_CLOSED:
		b.ForceClosed(req.GetReason(), ttl)
	}
	s.audit(ctx, "force "+req.GetOverride().String(), req.GetName(), req.GetReason(), "ttl", ttl.String())
	return &astraguardv1.ForceBreakerResponse{Breaker: breakerToProto(b.Snapshot())}, nil
}

func validateForce(req *astraguardv1.ForceBreakerRequest) (time.Duration, error) {
	switch o := req.GetOverride(); o {
	case astraguardv1.Override_OVERRIDE_FORCED_OPEN, astraguardv1.Override_OVERRIDE_FORCED_CLOSED:
	default:
		return 0, invalidArgf("unknown override %v", o)
	}
	if err := checkAdminString("reason", req.GetReason(), true); err != nil {
		return 0, fmt.Errorf("force a breaker: %w", err)
	}
	if req.GetTtl() == nil {
		return 0, invalidArgf("ttl is required to force a breaker (at most %v)", MaxForceTTL)
	}
	if err := req.GetTtl().CheckValid(); err != nil {
		return 0, invalidArgf("ttl: %v", err)
	}
	ttl := req.GetTtl().AsDuration()
	if ttl <= 0 || ttl > MaxForceTTL {
		return 0, invalidArgf("ttl %v outside (0, %v]", ttl, MaxForceTTL)
	}
	return ttl, nil
}

// WatchBreakers sends the current snapshot, then every transition of the
// watched breakers until the client leaves or the server shuts down.
// Streams are bounded in total and per client (Config.MaxWatchStreams,
// MaxWatchStreamsPerClient).
func (s *AdminService) WatchBreakers(req *astraguardv1.WatchBreakersRequest, stream astraguardv1.BreakerAdmin_WatchBreakersServer) error {
	names := req.GetNames()
	if err := checkWatchNames(names); err != nil {
		return toStatus(err)
	}
	// Breakers are fixed at start: a name that is none of them would
	// watch nothing for ever (a typo looks like a quiet breaker).
	for _, n := range names {
		if _, err := s.lookup(n); err != nil {
			return toStatus(err)
		}
	}
	// Subscribe before the snapshot so no transition falls between them.
	w, release, err := s.hub.watch(s.key(stream.Context()))
	if err != nil {
		return toStatus(err)
	}
	defer release()
	snap := &astraguardv1.WatchBreakersResponse{Event: &astraguardv1.WatchBreakersResponse_Snapshot{Snapshot: s.list(names)}}
	if err := stream.Send(snap); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return toStatus(stream.Context().Err())
		case t := <-w.ch:
			if len(names) > 0 && !slices.Contains(names, t.Name) {
				continue
			}
			ev := &astraguardv1.WatchBreakersResponse{Event: &astraguardv1.WatchBreakersResponse_Transition{Transition: transitionToProto(t)}}
			if err := stream.Send(ev); err != nil {
				return err
			}
		case <-w.lost:
			return status.Error(codes.Unavailable, "watch ended: the server is shutting down or the watcher fell too far behind; watch again")
		}
	}
}

func checkWatchNames(names []string) error {
	if len(names) > maxWatchNames {
		return invalidArgf("%d names, more than %d", len(names), maxWatchNames)
	}
	for i, n := range names {
		if err := checkAdminString(fmt.Sprintf("names[%d]", i), n, true); err != nil {
			return err
		}
	}
	return nil
}

func (s *AdminService) lookup(name string) (*breaker.Breaker, error) {
	if err := checkAdminString("breaker name", name, true); err != nil {
		return nil, err
	}
	b, ok := s.breakers.Get(name)
	if !ok {
		return nil, fmt.Errorf("breaker %q: %w", name, errNotFound)
	}
	return b, nil
}

// audit logs every mutation with who asked (the credential AdminAuth
// accepted, never its secret, and the peer address), what and why.
func (s *AdminService) audit(ctx context.Context, action, name, reason string, attrs ...any) {
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		addr = p.Addr.String()
	}
	s.logger.InfoContext(ctx, "breaker admin", append([]any{
		"action", action, "breaker", name, "reason", reason, "who", callerFrom(ctx), "peer", addr,
	}, attrs...)...)
}

func (s *AdminService) closeWatchers() { s.hub.close() }
