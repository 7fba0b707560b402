// Package protolimit bounds what a protobuf message costs to decode, not
// only its wire size: Codec refuses a message whose decoded form would
// exceed a bound, estimated from the wire (by the message's descriptor)
// before anything is allocated. Nearly empty repeated elements cost two
// wire bytes and about 148 bytes decoded, so a message within a 16 MiB
// receive limit could take more than a gigabyte to decode.
//
// A Budget bounds the total across concurrent decodes: each holds its
// estimate while it decodes, and one that does not fit waits for room
// (WithBudget; the service's own codec uses Budget.Admit). The estimate is
// of protobuf-go's decoded form, within a factor of about two.
//
// Codec and Budget are safe for concurrent use.
package protolimit

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec Codec wraps
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Decoded-size estimate per element: a message (its struct, internal
// state and the pointer that holds it), a string or bytes element (its
// header), a number (its slot). Measured: 15 MiB of empty input tensors
// (two wire bytes each) decoded to 1.16 GB, about 148 bytes a tensor.
const (
	messageCost = 160
	sliceCost   = 64
	scalarCost  = 8
)

// Codec returns gRPC's proto codec, except that a message whose decoded
// form would take more than maxDecoded bytes (estimated from the wire,
// without allocating) is refused before it is decoded. Install it with
// grpc.ForceServerCodecV2 on a server (gRPC reports the refusal as INTERNAL,
// "error unmarshalling request") or grpc.ForceCodecV2 as a call option on a
// client; the error names both sizes. With WithBudget, a message within
// maxDecoded is decoded once the budget has room for its estimate.
func Codec(maxDecoded int64, opts ...Option) encoding.CodecV2 {
	c := &codec{CodecV2: encoding.GetCodecV2("proto"), max: maxDecoded}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Option configures Codec.
type Option func(*codec)

// WithBudget has every decode hold its estimate in b while it runs,
// waiting for room (Budget). Default: none, decodes at once are not
// bounded.
func WithBudget(b *Budget) Option { return func(c *codec) { c.budget = b } }

type codec struct {
	encoding.CodecV2
	max    int64
	budget *Budget // nil: none
}

func (c *codec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf, held, err := c.budget.Admit(data, m, c.max)
	if err != nil {
		return err
	}
	defer buf.Free()
	defer c.budget.Release(held)
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

// Check returns an error naming both sizes when b, decoded as m's type,
// would take more than maxDecoded bytes; it allocates nothing. For codecs
// of their own (the service's decodes invalid UTF-8 leniently).
func Check(b []byte, m proto.Message, maxDecoded int64) error {
	_, err := Measure(b, m, maxDecoded)
	return err
}

// Measure is Check that also returns the estimate when it is within
// maxDecoded, for a codec that accounts for the memory its decodes take.
func Measure(b []byte, m proto.Message, maxDecoded int64) (int64, error) {
	md := m.ProtoReflect().Descriptor()
	n := decodedBytes(b, md, maxDecoded, 0)
	if n > maxDecoded {
		return 0, fmt.Errorf("a %d-byte %s decodes to more than %d bytes", len(b), md.FullName(), maxDecoded)
	}
	return n, nil
}

// maxDepth is protobuf-go's default recursion limit: a message nested
// deeper is refused by proto.Unmarshal, and walking it further would only
// grow the stack (the bound alone stops a recursive type after limit/160
// levels, 400,000 at 64 MiB: some 80 MB of stack).
const maxDepth = 10_000

// decodedBytes estimates the memory b takes decoded as md, stopping once
// past limit. Malformed wire ends the walk: proto.Unmarshal reports it.
func decodedBytes(b []byte, md protoreflect.MessageDescriptor, limit int64, depth int) int64 {
	cost := int64(messageCost)
	if depth > maxDepth {
		return cost // proto.Unmarshal refuses it: protobuf-go's own depth limit
	}
	for len(b) > 0 && cost <= limit {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return cost
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return cost
			}
			b = b[n:]
			cost += scalarCost + int64(n) // a scalar, or an unknown field kept raw
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return cost
		}
		b = b[n:]
		switch {
		case fd == nil:
			cost += int64(len(v)) // an unknown field, kept raw
		case fd.Message() != nil: // a message, a list element or a map entry
			cost += decodedBytes(v, fd.Message(), limit-cost, depth+1)
		case fd.Kind() == protoreflect.StringKind || fd.Kind() == protoreflect.BytesKind:
			cost += sliceCost + int64(len(v))
		default:
			cost += packedBytes(fd.Kind(), v)
		}
	}
	return cost
}

// packedBytes is what a packed run v of kind decodes to: as many bytes for
// fixed-size kinds, a slot per varint (each ends with a byte below 0x80).
func packedBytes(kind protoreflect.Kind, v []byte) int64 {
	switch kind {
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind,
		protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return int64(len(v))
	}
	var n int64
	for _, c := range v {
		if c < 0x80 {
			n++
		}
	}
	return scalarCost * n
}
