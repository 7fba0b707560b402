package client_test

import (
	"context"
	"fmt"
	"log"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/astraguard/astraguard/client"
	astraguardv1 "github.com/astraguard/astraguard/gen/astraguard/v1"
)

// Three replicas from a static list; each series goes to one of them.
func Example() {
	reg := prometheus.NewRegistry()
	c, err := client.New("10.0.0.1:50051,10.0.0.2:50051,10.0.0.3:50051", client.Config{}, client.WithRegisterer(reg))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	resp, err := c.Detect(context.Background(), &astraguardv1.DetectRequest{
		Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/voltage", Values: []float64{8.1, 8.2}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, v := range resp.GetVerdicts() {
		fmt.Println(v.GetSeriesId(), v.GetScore(), v.GetAnomaly())
	}
}

// A Kubernetes headless service resolves to every ready replica; the
// client re-resolves it every Config.ResolveInterval and moves the series
// that the new ring maps to a new replica.
func ExampleNew_dns() {
	c, err := client.New("dns:///astraguard-headless.telemetry.svc.cluster.local:50051", client.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
}

// Pipelining: Go returns at once; responses of one series arrive on done
// in the order of the requests.
func ExampleClient_Go() {
	c, err := client.New("127.0.0.1:50051", client.Config{MaxPending: 8})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	done := make(chan *client.Call, 8)
	for i := range 8 {
		req := &astraguardv1.DetectRequest{Series: []*astraguardv1.SeriesSamples{{SeriesId: "sat1/temperature", Values: []float64{float64(20 + i)}}}}
		if _, err := c.Go(ctx, req, done); err != nil {
			log.Fatal(err)
		}
	}
	for range 8 {
		call := <-done
		if call.Err != nil {
			log.Fatal(call.Err)
		}
		fmt.Println(call.Request.GetRequestId(), "answered by", call.Replica)
	}
}

// The header value for a partition key, as other clients must send it.
func ExampleEncodeKey() {
	fmt.Println(client.EncodeKey("sat1/voltage"))
	fmt.Println(client.EncodeKey("satellite-é/gyro"))
	// Output:
	// sat1/voltage
	// satellite-%C3%A9/gyro
}

// Frames route by their source.
func ExampleSeriesKey() {
	key, err := client.SeriesKey(&astraguardv1.DetectRequest{Frames: []*astraguardv1.Frame{{Source: "sat1"}}})
	fmt.Println(key, err)
	// Output: sat1 <nil>
}
