package server

import (
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec serverCodec wraps
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/astraguard/astraguard/internal/protolimit"
)

// serverCodec is the server's codec: gRPC's proto codec, except that
// responses are encoded by vtprotobuf's generated code and requests with
// invalid UTF-8 are decoded instead of refused.
//
// Every astraguard.v1 message has vtprotobuf's generated SizeVT and
// MarshalToSizedBufferVT (buf.gen.yaml), which cost a fraction of
// protobuf-go's table-driven encoder on the hot path: a Detect response
// holds a verdict per sample. Other messages (health, reflection) go to
// gRPC's codec. MarshalVT does not check strings for UTF-8, so the server
// must never put raw client strings in a response: series and request ids
// are mended (echoID, echoRequestID), admin strings are refused unless
// valid (checkAdminString), and FuzzDetectRequest checks that every
// response still passes protobuf-go's validating encoder. The one value it
// encodes differently: a singular float or double holding -0.0 is left out
// as proto3's default, so the client reads +0.0, the same number
// (protobuf-go sends the sign bit; TestCodecMarshalMatchesProto).
//
// Requests are decoded by protobuf-go, not UnmarshalVT: the generated
// decoder is laxer than the strict one (it takes invalid UTF-8, varints
// with bits past the 64th, field numbers past 2^29-1 and packed runs that
// spill into the next field), and on a 100-sample request it saves about 8%
// of a decode dominated by allocations, less than checking the wire first
// would cost.
//
// Go's protobuf refuses a proto3 message whose strings are not valid UTF-8
// as a whole, and gRPC turns that into INTERNAL for the call: on Detect the
// stream ends, and the detector's own per-sample check (INVALID_SERIES_ID)
// is never reached. The wire types stay string: changing them to bytes, or
// the files to an edition with utf8_validation NONE, would change every
// client's generated API and break `buf breaking`. Instead, a message that
// fails to decode is decoded once more against a twin of its descriptor
// whose strings are not validated, then copied into the generated type,
// whose setters do not validate. Valid messages take gRPC's own path
// unchanged.
//
// Each decode holds its estimated decoded size in a server-wide budget
// while it runs, waiting for room (protolimit.Budget, newDecoding).
type serverCodec struct {
	encoding.CodecV2
	twins      sync.Map           // protoreflect.FullName -> protoreflect.MessageDescriptor, or error
	maxDecoded int64              // bound on a request's decoded size (protolimit.Measure)
	decoding   *protolimit.Budget // nil: decodes at once are not bounded
}

// vtMessage is what vtprotobuf generates (features marshal and size; see
// buf.gen.yaml).
type vtMessage interface {
	proto.Message
	SizeVT() int
	MarshalToSizedBufferVT(dAtA []byte) (int, error)
}

// newServerCodec returns the codec; a request whose decoded form would
// take more than maxDecoded bytes, estimated from the wire, is refused
// before it is decoded (see decodedBound), and one within it is decoded
// once d has room for the estimate (d nil: at once).
func newServerCodec(maxDecoded int64, d *protolimit.Budget) *serverCodec {
	return &serverCodec{CodecV2: encoding.GetCodecV2("proto"), maxDecoded: maxDecoded, decoding: d}
}

// decodedBound is the decoded size allowed a request of at most maxRecv
// bytes: 16 times it, 64 MiB at the default 4 MiB. The largest requests
// within the other limits (100,000 frame channels, one frame each) take
// about 50 MB; nearly empty repeated elements (two wire bytes, some 150
// bytes decoded) took 300 MB for a 4 MiB request, and compressed with gzip
// (registered by the OpenTelemetry exporters, so accepted) that request is
// 4 KB on the wire: eight at once held 6 GB.
func decodedBound(maxRecv int) int64 { return 16 * int64(maxRecv) }

// Marshal encodes v with its generated marshaller into a buffer from gRPC's
// pool when it is large, as gRPC's own proto codec does; a message without
// one goes to that codec.
func (c *serverCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(vtMessage)
	if !ok {
		return c.CodecV2.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		if err := marshalVT(m, buf); err != nil {
			return nil, err
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	if err := marshalVT(m, *buf); err != nil {
		pool.Put(buf)
		return nil, err
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// marshalVT fills buf, which is exactly m.SizeVT() bytes.
func marshalVT(m vtMessage, buf []byte) error {
	n, err := m.MarshalToSizedBufferVT(buf)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", m.ProtoReflect().Descriptor().FullName(), err)
	}
	if n != len(buf) { // the message changed between SizeVT and here
		return fmt.Errorf("marshal %s: %d bytes written, %d sized", m.ProtoReflect().Descriptor().FullName(), n, len(buf))
	}
	return nil
}

// Unmarshal decodes data into v, tolerating invalid UTF-8 in strings. Any
// other malformation is still the strict codec's error. A request whose
// decoded form would exceed the bound is refused before either decode;
// one within it waits for room in the decoding budget for its estimate.
func (c *serverCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf, held, err := c.decoding.Admit(data, m, c.maxDecoded)
	if err != nil {
		return err
	}
	defer buf.Free()
	defer c.decoding.Release(held)
	b := buf.ReadOnlyData()
	err = proto.Unmarshal(b, m)
	if err == nil {
		return nil
	}
	if lerr := c.unmarshalLenient(b, m); lerr != nil {
		return err
	}
	return nil
}

func (c *serverCodec) unmarshalLenient(b []byte, m proto.Message) error {
	twin, err := c.twin(m.ProtoReflect().Descriptor())
	if err != nil {
		return err
	}
	dyn := dynamicpb.NewMessage(twin)
	if err := proto.Unmarshal(b, dyn); err != nil {
		return err
	}
	proto.Reset(m)
	copyMessage(m.ProtoReflect(), dyn)
	return nil
}

// twin returns md's counterpart without UTF-8 validation, built once per
// message type.
func (c *serverCodec) twin(md protoreflect.MessageDescriptor) (protoreflect.MessageDescriptor, error) {
	if t, ok := c.twins.Load(md.FullName()); ok {
		if err, isErr := t.(error); isErr {
			return nil, err
		}
		return t.(protoreflect.MessageDescriptor), nil
	}
	t, err := buildTwin(md)
	if err != nil {
		c.twins.Store(md.FullName(), err)
		return nil, err
	}
	c.twins.Store(md.FullName(), t)
	return t, nil
}

// buildTwin rewrites md's proto3 file as edition 2023 with the same wire
// semantics (implicit presence, open enums, packed repeats) and
// utf8_validation NONE. It is not registered anywhere.
func buildTwin(md protoreflect.MessageDescriptor) (protoreflect.MessageDescriptor, error) {
	fd := md.ParentFile()
	if fd.Syntax() != protoreflect.Proto3 {
		return nil, fmt.Errorf("lenient decode of %s: %s file", md.FullName(), fd.Syntax())
	}
	fdp := protodesc.ToFileDescriptorProto(fd)
	if hasProto3Optional(fdp.GetMessageType()) {
		return nil, errors.New("lenient decode: proto3 optional fields are not supported")
	}
	fdp.Syntax = proto.String("editions")
	fdp.Edition = descriptorpb.Edition_EDITION_2023.Enum()
	if fdp.Options == nil {
		fdp.Options = &descriptorpb.FileOptions{}
	}
	fdp.Options.Features = &descriptorpb.FeatureSet{
		FieldPresence:  descriptorpb.FeatureSet_IMPLICIT.Enum(),
		Utf8Validation: descriptorpb.FeatureSet_NONE.Enum(),
	}
	twin, err := protodesc.NewFile(fdp, protoregistry.GlobalFiles)
	if err != nil {
		return nil, fmt.Errorf("lenient decode of %s: %w", md.FullName(), err)
	}
	t := findMessage(twin.Messages(), md.FullName())
	if t == nil {
		return nil, fmt.Errorf("lenient decode: %s not in its twin file", md.FullName())
	}
	return t, nil
}

func findMessage(ms protoreflect.MessageDescriptors, name protoreflect.FullName) protoreflect.MessageDescriptor {
	for i := range ms.Len() {
		m := ms.Get(i)
		if m.FullName() == name {
			return m
		}
		if n := findMessage(m.Messages(), name); n != nil {
			return n
		}
	}
	return nil
}

func hasProto3Optional(msgs []*descriptorpb.DescriptorProto) bool {
	for _, m := range msgs {
		for _, f := range m.GetField() {
			if f.GetProto3Optional() {
				return true
			}
		}
		if hasProto3Optional(m.GetNestedType()) {
			return true
		}
	}
	return false
}

// copyMessage copies src, a dynamic twin-typed message, into dst, a
// generated message of the same shape, field by field.
func copyMessage(dst, src protoreflect.Message) {
	fields := dst.Descriptor().Fields()
	src.Range(func(sf protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		df := fields.ByNumber(sf.Number())
		switch {
		case df.IsList():
			dl, sl := dst.Mutable(df).List(), v.List()
			for i := range sl.Len() {
				if df.Message() != nil {
					e := dl.NewElement()
					copyMessage(e.Message(), sl.Get(i).Message())
					dl.Append(e)
				} else {
					dl.Append(sl.Get(i))
				}
			}
		case df.IsMap():
			dm := dst.Mutable(df).Map()
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if df.MapValue().Message() != nil {
					e := dm.NewValue()
					copyMessage(e.Message(), mv.Message())
					mv = e
				}
				dm.Set(k, mv)
				return true
			})
		case df.Message() != nil:
			copyMessage(dst.Mutable(df).Message(), v.Message())
		default:
			dst.Set(df, v)
		}
		return true
	})
	if u := src.GetUnknown(); len(u) > 0 {
		dst.SetUnknown(u)
	}
}
