package server

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/astraguard/astraguard/detector"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Scorer scores batches of samples; *detector.Detector satisfies it.
type Scorer interface {
	Score(ctx context.Context, dst []detector.Verdict, groups []detector.Group) []detector.Verdict
}

// DetectorService implements astraguard.v1.DetectorService.
type DetectorService struct {
	astraguardv1.UnimplementedDetectorServiceServer
	scorer     Scorer
	maxSamples int
}

var _ astraguardv1.DetectorServiceServer = (*DetectorService)(nil)

// NewDetectorService returns the service over s. maxSamples bounds the
// samples in one request (0 means 100,000).
func NewDetectorService(s Scorer, maxSamples int) *DetectorService {
	if maxSamples <= 0 {
		maxSamples = 100_000
	}
	return &DetectorService{scorer: s, maxSamples: maxSamples}
}

// Detect answers each request on the stream with one response, in order.
func (s *DetectorService) Detect(stream astraguardv1.DetectorService_DetectServer) error {
	ctx := stream.Context()
	var b batch
	resp := &astraguardv1.DetectResponse{}
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err // already a status from the transport
		}
		verdicts, err := s.score(ctx, &b, req.GetSeries(), req.GetFrames())
		if err != nil {
			return toStatus(fmt.Errorf("request %q: %w", req.GetRequestId(), err))
		}
		resp.RequestId, resp.Verdicts = req.GetRequestId(), verdicts
		if err := stream.Send(resp); err != nil {
			return err
		}
	}
}

// DetectBatch scores one batch.
func (s *DetectorService) DetectBatch(ctx context.Context, req *astraguardv1.DetectBatchRequest) (*astraguardv1.DetectBatchResponse, error) {
	var b batch
	verdicts, err := s.score(ctx, &b, req.GetSeries(), req.GetFrames())
	if err != nil {
		return nil, toStatus(err)
	}
	return &astraguardv1.DetectBatchResponse{RequestId: req.GetRequestId(), Verdicts: verdicts}, nil
}

func (s *DetectorService) score(ctx context.Context, b *batch, series []*astraguardv1.SeriesSamples, frames []*astraguardv1.Frame) ([]*astraguardv1.Verdict, error) {
	if n := countSamples(series, frames); n > s.maxSamples {
		return nil, &LimitError{Limit: "samples per request", Max: s.maxSamples, Got: n}
	}
	groups := b.toGroups(series, frames)
	b.verdicts = s.scorer.Score(ctx, b.verdicts[:0], groups)
	return b.toProto(groups, b.verdicts), nil
}
