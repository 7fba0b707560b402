package modelserver_test

import (
	"testing"

	"github.com/astraguard/astraguard/internal/modelserver"
	"google.golang.org/grpc/codes"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// TestStockJSONRequestThroughReflection calls ModelInfer the way a generic
// tool (grpcurl, a KServe v2 client in another language) would: with no
// generated code, the schema fetched through server reflection and the
// request written as the protocol documents it, in JSON.
func TestStockJSONRequestThroughReflection(t *testing.T) {
	conn := serve(t, newServer(t, modelserver.WithInstanceID("r1")))
	ctx := t.Context()

	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatalf("ServerReflectionInfo() = %v", err)
	}
	const service = "inference.GRPCInferenceService"
	if err := stream.Send(&rpb.ServerReflectionRequest{
		MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: service},
	}); err != nil {
		t.Fatalf("Send() = %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("Recv() = %v", err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("CloseSend() = %v", err)
	}
	fdr := resp.GetFileDescriptorResponse()
	if fdr == nil {
		t.Fatalf("reflection answered %v, want file descriptors", resp)
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, b := range fdr.GetFileDescriptorProto() {
		fd := &descriptorpb.FileDescriptorProto{}
		if err := proto.Unmarshal(b, fd); err != nil {
			t.Fatalf("Unmarshal(FileDescriptorProto) = %v", err)
		}
		set.File = append(set.File, fd)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		t.Fatalf("NewFiles() = %v", err)
	}
	d, err := files.FindDescriptorByName(service)
	if err != nil {
		t.Fatalf("FindDescriptorByName(%q) = %v", service, err)
	}
	method := d.(protoreflect.ServiceDescriptor).Methods().ByName("ModelInfer")

	call := func(reqJSON string) (string, error) {
		req := dynamicpb.NewMessage(method.Input())
		if err := protojson.Unmarshal([]byte(reqJSON), req); err != nil {
			t.Fatalf("protojson.Unmarshal(%s) = %v", reqJSON, err)
		}
		out := dynamicpb.NewMessage(method.Output())
		if err := conn.Invoke(ctx, "/"+service+"/ModelInfer", req, out); err != nil {
			return "", err
		}
		b, err := protojson.Marshal(out)
		if err != nil {
			t.Fatalf("protojson.Marshal() = %v", err)
		}
		return string(b), nil
	}

	got, err := call(`{"model_name":"astraguard-anomaly","id":"req-7",
		"inputs":[{"name":"value","datatype":"FP64","shape":[3],"contents":{"fp64_contents":[1,2,3]}}],
		"parameters":{"sequence_id":{"string_param":"sat1/voltage"},"binary_data_output":{"bool_param":false}}}`)
	if err != nil {
		t.Fatalf("ModelInfer() = %v", err)
	}
	// Three cold samples: score 0, no anomaly, not warm.
	want := `{"modelName":"astraguard-anomaly","modelVersion":"1","id":"req-7",
		"parameters":{"instance_id":{"stringParam":"r1"}},
		"outputs":[
		 {"name":"score","datatype":"FP64","shape":["3"],"contents":{"fp64Contents":[0,0,0]}},
		 {"name":"anomaly","datatype":"BOOL","shape":["3"],"contents":{"boolContents":[false,false,false]}},
		 {"name":"warm","datatype":"BOOL","shape":["3"],"contents":{"boolContents":[false,false,false]}},
		 {"name":"mechanism","datatype":"BYTES","shape":["3"],"contents":{"bytesContents":["bm9uZQ==","bm9uZQ==","bm9uZQ=="]}},
		 {"name":"expected","datatype":"FP64","shape":["3"],"contents":{"fp64Contents":[0,0,0]}},
		 {"name":"expected_lower","datatype":"FP64","shape":["3"],"contents":{"fp64Contents":[0,0,0]}},
		 {"name":"expected_upper","datatype":"FP64","shape":["3"],"contents":{"fp64Contents":[0,0,0]}}]}`
	if !jsonEqual(t, got, want) {
		t.Errorf("ModelInfer() = %s\nwant %s", got, want)
	}

	_, err = call(`{"model_name":"astraguard-anomaly",
		"inputs":[{"name":"value","datatype":"FP64","shape":[4],"contents":{"fp64_contents":[1,2,3]}}],
		"parameters":{"sequence_id":{"int64_param":"17"}}}`)
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("ModelInfer(shape [4], 3 values) = %v, want InvalidArgument", err)
	}
}
