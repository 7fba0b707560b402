package ceiling

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkOnlineKNNStep reports the cost of one sample for each budgeted
// setting: observe the value (offer its window to the memory) and forecast
// the next, on a warm memory over the signal internal/model's
// BenchmarkUpdate uses (100 + 10 sin(i/30) + noise), and the state bytes.
func BenchmarkOnlineKNNStep(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 1))
	vs := make([]float64, 4096)
	for i := range vs {
		vs[i] = 100 + 10*math.Sin(float64(i)/30) + r.NormFloat64()
	}
	for _, o := range Budgeted() {
		name := strings.NewReplacer(" ", "", ",", "_", "(", "", ")", "").Replace(o.String())
		b.Run(name, func(b *testing.B) {
			s, err := o.NewStream()
			if err != nil {
				b.Fatal(err)
			}
			for i := range 10000 {
				s.Observe(vs[i&(len(vs)-1)])
			}
			b.ReportAllocs()
			b.ResetTimer()
			var sink float64
			for i := 0; i < b.N; i++ {
				s.Observe(vs[i&(len(vs)-1)])
				sink += s.Predict()
			}
			if math.IsNaN(sink) {
				b.Fatal("NaN forecast")
			}
			b.ReportMetric(float64(o.Bytes()), "state-bytes")
		})
	}
}
