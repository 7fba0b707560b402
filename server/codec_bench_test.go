package server

import (
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"
)

// benchCodecs are gRPC's proto codec (what the server encoded with before
// the generated methods) and the server's codec. Compare them with
// go test -run='^$' -bench=Codec -benchmem -count=10 ./server/ | benchstat -col /codec -
func benchCodecs() []struct {
	name  string
	codec encoding.CodecV2
} {
	return []struct {
		name  string
		codec encoding.CodecV2
	}{{"proto", encoding.GetCodecV2("proto")}, {"vt", newServerCodec(decodedBound(4<<20), nil)}}
}

// BenchmarkCodecMarshal encodes a 100-verdict Detect response, as the
// model path answers a request of 100 samples.
func BenchmarkCodecMarshal(b *testing.B) {
	resp := realisticResponse(100)
	for _, c := range benchCodecs() {
		b.Run("codec="+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(proto.Size(resp)))
			for b.Loop() {
				data, err := c.codec.Marshal(resp)
				if err != nil {
					b.Fatal(err)
				}
				data.Free() // as the transport does once it is written
			}
		})
	}
}
