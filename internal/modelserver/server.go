package modelserver

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/astraguard/astraguard/gen/inference"
	"github.com/astraguard/astraguard/internal/model"
	"github.com/astraguard/astraguard/internal/oipwire"
	"github.com/astraguard/astraguard/internal/store"
)

var _ inference.GRPCInferenceServiceServer = (*Server)(nil)

// Parameter names the server reads besides oipwire's (see the package
// comment).
const (
	ParamSequenceID    = "sequence_id"
	ParamSequenceStart = "sequence_start"
	ParamSequenceEnd   = "sequence_end"

	// ParamBinaryDataOutput (request, bool) false asks for typed output
	// contents; ParamBinaryData (requested output, bool) false does the
	// same for one output, and then for all of them. Both are the names
	// Triton's clients use. The default is raw_output_contents, as Triton
	// always answers over gRPC.
	ParamBinaryDataOutput = "binary_data_output"
	ParamBinaryData       = "binary_data"
)

// MaxDims is the most dimensions an input's shape may have, numpy's
// limit before 2.0; the layout's tensors have one.
const MaxDims = 32

// MaxRequestIDBytes is the longest request id accepted. The replay memory
// keeps up to 4096 recent ids with their answers for 30s, so ids as long
// as a message (16 MiB) let one client pin 64 GB; detector/oip's ids are
// about 20 bytes, a UUID 36.
const MaxRequestIDBytes = 256

// Config tunes a Server. The zero value works.
type Config struct {
	// ModelName is the one model served. Default oipwire.DefaultModelName.
	ModelName string
	// ModelVersion is its one version; requests naming no version get it.
	// Default "1".
	ModelVersion string
	// MaxBatch is the most samples one ModelInfer may carry. Default
	// 100000: about 4 MB of request, and bounded scoring time per call.
	MaxBatch int
	// MaxSeriesIDBytes is the longest series id accepted. Default 1024.
	MaxSeriesIDBytes int
	// ServerName and ServerVersion are reported by ServerMetadata. Default
	// "astraguard-model" and "dev".
	ServerName, ServerVersion string
	// MaxSeries is the capacity of the series table: a new series at a full
	// table evicts the least recently used one, which starts warming up
	// again if it returns. Default store.DefaultCapacity.
	MaxSeries int
	// SeriesTTL evicts series idle longer than this (on their next request
	// or in Sweep). Zero disables it.
	SeriesTTL time.Duration
}

// DefaultConfig returns the value each zero field of Config takes;
// cmd/astraguard-model's flags take their defaults from it.
func DefaultConfig() Config {
	return Config{ModelName: oipwire.DefaultModelName, ModelVersion: "1", MaxBatch: 100_000, MaxSeriesIDBytes: 1024,
		ServerName: "astraguard-model", ServerVersion: "dev", MaxSeries: store.DefaultCapacity}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.ModelName = cmp.Or(c.ModelName, d.ModelName)
	c.ModelVersion = cmp.Or(c.ModelVersion, d.ModelVersion)
	c.ServerName = cmp.Or(c.ServerName, d.ServerName)
	c.ServerVersion = cmp.Or(c.ServerVersion, d.ServerVersion)
	c.MaxSeries = cmp.Or(c.MaxSeries, d.MaxSeries)
	if c.MaxBatch <= 0 {
		c.MaxBatch = d.MaxBatch
	}
	if c.MaxSeriesIDBytes <= 0 {
		c.MaxSeriesIDBytes = d.MaxSeriesIDBytes
	}
	return c
}

// Option configures a Server.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	instanceID string
	now        func() time.Time
}

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithInstanceID sets the instance_id reported in every response. Default:
// 16 random hex characters, new per Server.
func WithInstanceID(id string) Option {
	return func(o *options) { o.instanceID = id }
}

// WithNow sets the clock used to stamp samples sent without a timestamp
// input. Default time.Now.
func WithNow(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Server implements inference.GRPCInferenceServiceServer for the reference
// model. It is safe for concurrent use.
type Server struct {
	inference.UnimplementedGRPCInferenceServiceServer

	tmpl    *model.Template
	series  *store.Table[model.Detector]
	cfg     Config
	opts    options
	ready   atomic.Bool
	replays *replays
}

// New returns a ready Server scoring with the model made from t, keeping
// each series' model state in one store entry. A nil t is a programmer
// error and panics; an invalid cfg is an error.
func New(t *model.Template, cfg Config, opts ...Option) (*Server, error) {
	if t == nil {
		panic("modelserver.New: nil model template")
	}
	o := options{logger: slog.New(slog.DiscardHandler), now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if o.instanceID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
		o.instanceID = hex.EncodeToString(b[:])
	}
	cfg = cfg.withDefaults()
	series, err := store.New[model.Detector](store.Config{Capacity: cfg.MaxSeries, TTL: cfg.SeriesTTL})
	if err != nil {
		return nil, fmt.Errorf("new model server: %w", err)
	}
	s := &Server{tmpl: t, series: series, cfg: cfg, opts: o, replays: newReplays()}
	s.opts.logger = s.opts.logger.With("component", "modelserver")
	s.ready.Store(true)
	return s, nil
}

// Series returns the table of per-series model state, for metrics
// (Len, Evicted), the owner's periodic Sweep, and checkpoints (Range,
// Restore).
func (s *Server) Series() *store.Table[model.Detector] { return s.series }

// InstanceID returns the id this Server reports in every response.
func (s *Server) InstanceID() string { return s.opts.instanceID }

// SetReady sets what ServerReady and ModelReady report; a Server starts
// ready. main clears it when draining, before GracefulStop.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// ServerLive reports true: a Server that answers is live.
func (s *Server) ServerLive(context.Context, *inference.ServerLiveRequest) (*inference.ServerLiveResponse, error) {
	return &inference.ServerLiveResponse{Live: true}, nil
}

// ServerReady reports whether the server takes inference requests.
func (s *Server) ServerReady(context.Context, *inference.ServerReadyRequest) (*inference.ServerReadyResponse, error) {
	return &inference.ServerReadyResponse{Ready: s.ready.Load()}, nil
}

// ModelReady reports whether the named model is ready; an unknown model or
// version is NotFound.
func (s *Server) ModelReady(_ context.Context, req *inference.ModelReadyRequest) (*inference.ModelReadyResponse, error) {
	if err := s.checkModel(req.GetName(), req.GetVersion()); err != nil {
		return nil, err
	}
	return &inference.ModelReadyResponse{Ready: s.ready.Load()}, nil
}

// ServerMetadata describes the server.
func (s *Server) ServerMetadata(context.Context, *inference.ServerMetadataRequest) (*inference.ServerMetadataResponse, error) {
	return &inference.ServerMetadataResponse{Name: s.cfg.ServerName, Version: s.cfg.ServerVersion}, nil
}

// ModelMetadata describes the model's tensors (see the package comment);
// an unknown model or version is NotFound.
func (s *Server) ModelMetadata(_ context.Context, req *inference.ModelMetadataRequest) (*inference.ModelMetadataResponse, error) {
	if err := s.checkModel(req.GetName(), req.GetVersion()); err != nil {
		return nil, err
	}
	t := func(name, datatype string) *inference.ModelMetadataResponse_TensorMetadata {
		return &inference.ModelMetadataResponse_TensorMetadata{Name: name, Datatype: datatype, Shape: []int64{-1}}
	}
	return &inference.ModelMetadataResponse{
		Name:     s.cfg.ModelName,
		Versions: []string{s.cfg.ModelVersion},
		Platform: "astraguard_go",
		Inputs:   []*inference.ModelMetadataResponse_TensorMetadata{t(oipwire.InputSeriesID, "BYTES"), t(oipwire.InputTimestamp, "INT64"), t(oipwire.InputValue, "FP64")},
		Outputs: []*inference.ModelMetadataResponse_TensorMetadata{t(oipwire.OutputScore, "FP64"), t(oipwire.OutputAnomaly, "BOOL"), t(oipwire.OutputWarm, "BOOL"),
			t(oipwire.OutputMechanism, "BYTES"), t(oipwire.OutputExpected, "FP64"), t(oipwire.OutputExpectedLower, "FP64"), t(oipwire.OutputExpectedUpper, "FP64")},
	}, nil
}

func (s *Server) checkModel(name, version string) error {
	switch {
	case name == "":
		return status.Error(codes.InvalidArgument, "model name is required")
	case name != s.cfg.ModelName:
		return status.Errorf(codes.NotFound, "model %s not found", quote(name))
	case version != "" && version != s.cfg.ModelVersion:
		return status.Errorf(codes.NotFound, "model %s version %s not found", quote(name), quote(version))
	}
	return nil
}

func invalid(format string, args ...any) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(format, args...))
}

// maxQuoted is how much of a client's string an error message quotes.
const maxQuoted = 64

// quote quotes s for an error message, cut to maxQuoted bytes and marked
// "..." when longer: a message echoes what the client sent into the
// status (a trailer) and the per-call log line, and a model name as long
// as a message (16 MiB of control characters, quoted four bytes each)
// made a 78 MB log line and 1.2 GB of allocations per call.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuoted]) + "..."
}
