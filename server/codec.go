package server

import (
	"errors"
	"fmt"
	"sync"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto" // registers the "proto" codec lenientCodec wraps
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// lenientCodec is gRPC's proto codec, except that a request whose string
// fields are not valid UTF-8 is decoded instead of refused.
//
// Go's protobuf refuses such a proto3 message as a whole, and gRPC turns
// that into INTERNAL for the call: on Detect the stream ends, and the
// detector's own per-sample check (INVALID_SERIES_ID) is never reached.
// The wire types stay string: changing them to bytes, or the files to an
// edition with utf8_validation NONE, would change every client's
// generated API and break `buf breaking`. Instead, a message that fails to
// decode is decoded once more against a twin of its descriptor whose
// strings are not validated, then copied into the generated type, whose
// setters do not validate. Valid messages take gRPC's own path unchanged;
// responses are still validated when marshalled, so the server must never
// echo raw client strings (see echoID).
type lenientCodec struct {
	encoding.CodecV2
	twins sync.Map // protoreflect.FullName -> protoreflect.MessageDescriptor, or error
}

func newLenientCodec() *lenientCodec {
	return &lenientCodec{CodecV2: encoding.GetCodecV2("proto")}
}

// Unmarshal decodes data into v, tolerating invalid UTF-8 in strings. Any
// other malformation is still the strict codec's error.
func (c *lenientCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	if lerr := c.unmarshalLenient(data.Materialize(), m); lerr != nil {
		return err
	}
	return nil
}

func (c *lenientCodec) unmarshalLenient(b []byte, m proto.Message) error {
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
func (c *lenientCodec) twin(md protoreflect.MessageDescriptor) (protoreflect.MessageDescriptor, error) {
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
