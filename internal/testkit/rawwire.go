package testkit

import "google.golang.org/grpc/mem"

// RawCodec sends and receives messages as the bytes they are ([]byte and
// *[]byte), under the name "proto", so a test client or server can put
// any wire on a connection: a hostile peer, a malformed message.
type RawCodec struct{}

// Marshal sends v, a []byte, as it is.
func (RawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}

// Unmarshal copies the message into v, a *[]byte.
func (RawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

// Name is "proto": the peer takes the bytes for a protobuf message.
func (RawCodec) Name() string { return "proto" }

// EmptyRepeated is a protobuf wire of at least size bytes made of empty
// elements of the length-delimited field tag (its key byte, e.g. 0x12 for
// field 2): two bytes each on the wire, a whole message each once
// decoded, the shape of a decode bomb.
func EmptyRepeated(tag byte, size int) []byte {
	b := make([]byte, 0, size+1)
	for len(b) < size {
		b = append(b, tag, 0x00)
	}
	return b
}
