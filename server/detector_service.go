package server

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/semaphore"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Scorer scores batches of samples; *detector.Detector satisfies it.
type Scorer interface {
	Score(ctx context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict
}

// seriesIDLimiter is a Scorer that says how long a series id it accepts,
// as *detector.Detector does; other Scorers get the detector's default.
type seriesIDLimiter interface{ MaxSeriesIDBytes() int }

// DetectorService implements astraguard.v1.DetectorService with the
// limits of its Config (see README "Limits"): every refusal is a
// RESOURCE_EXHAUSTED status naming the limit, counted in
// astraguard_limit_rejections_total.
type DetectorService struct {
	astraguardv1.UnimplementedDetectorServiceServer
	scorer Scorer
	cfg    Config
	maxID  int          // the scorer's series id limit in bytes
	logger *slog.Logger // panics of stream goroutines
	// queued bounds the bytes of admitted requests and unread responses
	// (Config.MaxQueuedBytes but its waiting room, admitBytes of it);
	// waiting bounds the decoded requests waiting for admission (room).
	// queuedNow is what both hold, for the gauge and hooks.
	queued     *semaphore.Weighted
	admitBytes int64
	waiting    *room
	queuedNow  atomic.Int64
	limiter    *clientLimiter // nil: no rate limit
	clientKey  ClientKeyFunc
	metrics    *limitMetrics
	streams    *streamSlots // Detect streams being served, in total and per client
	// workers are the stream goroutines. A handler that gives up on a
	// stalled Send returns before they do (only its return cancels the
	// stream), so the service owns them and wait joins them.
	workers sync.WaitGroup
	hooks   streamHooks
	tracer  tracer // request spans (trace.go); the zero value makes none
	// observer sees every scored batch (WithVerdictObserver); nil: none.
	observer VerdictObserver
}

// streamHooks observe a stream's internals; nil hooks are skipped. Only
// tests install them (withStreamHooks), to watch what no metric shows.
type streamHooks struct {
	inFlight  func(n int)             // requests a stream holds, after each read
	ended     func(err error)         // a Detect handler's result
	queued    func(held int64)        // bytes held in queues, after each admission
	queueWait func()                  // a reader waits for MaxQueuedBytes
	sent      func(stall *time.Timer) // after each Send, before its timer stops
	// The codec's (decoding): bytes being decoded after each acquire, and
	// a decode about to wait for room.
	decoding   func(held int64)
	decodeWait func()
}

// withStreamHooks installs h on the Server's DetectorService.
func withStreamHooks(h streamHooks) Option { return func(o *options) { o.hooks = h } }

var _ astraguardv1.DetectorServiceServer = (*DetectorService)(nil)

// NewDetectorService returns the service over s with the default limits of
// Config, no rate limit, and at most maxSamples samples per request (0
// means 100,000). Server uses the full Config.
func NewDetectorService(s Scorer, maxSamples int) *DetectorService {
	d, err := newDetectorService(s, Config{MaxSamplesPerRequest: max(maxSamples, 0)}, PeerIP, nil, nil)
	if err != nil {
		panic(err) // unreachable: no limit is negative
	}
	return d
}

func newDetectorService(s Scorer, cfg Config, key ClientKeyFunc, m *limitMetrics, l *slog.Logger) (*DetectorService, error) {
	cfg, err := cfg.streamDefaults()
	if err != nil {
		return nil, err
	}
	if key == nil {
		key = PeerIP
	}
	if m == nil {
		m = newLimitMetrics(nil)
	}
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	maxID := detector.DefaultMaxSeriesIDBytes
	if sl, ok := s.(seriesIDLimiter); ok {
		maxID = sl.MaxSeriesIDBytes()
	}
	admitBytes, waitingBytes := splitQueued(cfg.MaxQueuedBytes)
	return &DetectorService{
		scorer:     s,
		cfg:        cfg,
		maxID:      maxID,
		logger:     l,
		queued:     semaphore.NewWeighted(admitBytes),
		admitBytes: admitBytes,
		waiting:    newRoom(waitingBytes),
		streams:    newStreamSlots(LimitDetectStreams, cfg.MaxDetectStreams, cfg.perClientDetectStreams()),
		limiter:    newClientLimiter(cfg.RateLimit, cfg.RateBurst, cfg.RateWait, cfg.MaxRateClients),
		clientKey:  key,
		metrics:    m,
	}, nil
}

// wait blocks until every stream goroutine has ended. They end once their
// stream does, so after the gRPC server has stopped this returns promptly.
func (s *DetectorService) wait() { s.workers.Wait() }

// DetectBatch scores one batch.
// The decoded request is counted in the waiting room of MaxQueuedBytes
// from the start, and its full charge (requestCharge, the response as
// built included) is held while it is scored: a request that finds the
// room full is refused, one that finds the rest of the budget full waits
// for room until its deadline.
func (s *DetectorService) DetectBatch(ctx context.Context, req *astraguardv1.DetectBatchRequest) (*astraguardv1.DetectBatchResponse, error) {
	decoded := decodedSize(req)
	if err := s.takeWaiting(decoded); err != nil {
		return nil, s.fail(err)
	}
	bound, err := s.admit(ctx, s.clientKey(ctx), req.GetRequestId(), req.GetSeries(), req.GetFrames())
	if err != nil {
		s.releaseWaiting(decoded)
		return nil, s.fail(err)
	}
	held, err := s.holdQueued(ctx, requestCharge(req, decoded, bound), nil)
	s.releaseWaiting(decoded) // the charge covers it now
	if err != nil {
		return nil, toStatus(err)
	}
	defer s.releaseQueued(held)
	b := batch{maxID: s.maxID}
	verdicts := s.score(ctx, &b, req.GetSeries(), req.GetFrames())
	return &astraguardv1.DetectBatchResponse{RequestId: echoRequestID(req.GetRequestId()), Verdicts: verdicts}, nil
}

// admit checks a request against the per-request limits and spends the
// client's rate budget on it; it returns the bound of its response.
func (s *DetectorService) admit(ctx context.Context, client, requestID string, series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) (int64, error) {
	n := requestCost(series, frames)
	if n > s.cfg.MaxSamplesPerRequest {
		return 0, &LimitError{Limit: LimitSamplesPerRequest, Max: s.cfg.MaxSamplesPerRequest, Got: n}
	}
	bound, err := s.checkResponseSize(requestID, series, frames)
	if err != nil {
		return 0, err
	}
	return bound, s.limiter.take(ctx, client, n)
}

// score scores an admitted request into b's reusable verdicts.
func (s *DetectorService) score(ctx context.Context, b *batch, series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) []*astraguardv1.Verdict {
	groups := b.toGroups(series, frames)
	b.verdicts = s.scorer.Score(ctx, b.verdicts[:0], groups)
	if s.observer != nil {
		s.observer.ObserveVerdicts(groups, b.verdicts)
	}
	s.tracer.annotate(trace.SpanFromContext(ctx), b.verdicts)
	return b.toProto(groups, b.verdicts)
}

// fail counts a limit refusal and maps err to its status.
func (s *DetectorService) fail(err error) error {
	s.metrics.count(err)
	return toStatus(err)
}

// errPanic ends a stream whose goroutine panicked; toStatus turns it into
// INTERNAL "internal error", as the recovery interceptor does for handlers.
var errPanic = errors.New("detect stream panicked")

// recovered logs the panic p of a stream goroutine with its stack and
// returns errPanic. The recovery interceptor only covers the handler's own
// goroutine, so without this a panic while scoring would kill the process.
func (s *DetectorService) recovered(ctx context.Context, p any) error {
	s.logger.ErrorContext(ctx, "handler panicked", "panic", p, "stack", string(debug.Stack()))
	return errPanic
}
