// What grpc_cli does, through server reflection only: list the services of a
// real recondbd, fetch the file descriptors of each, build a DescriptorPool
// from them, and call methods with requests built from JSON by a
// DynamicMessageFactory and sent with grpc::GenericStub.
//
// The reflection client stubs are generated from
// /usr/share/grpc-proto/grpc/reflection/v1alpha/reflection.proto in this
// directory's CMakeLists.txt (gRPC::grpc++_reflection is not linked: it holds
// the same descriptors).
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace recondb::testing {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

namespace refl = grpc::reflection::v1alpha;
namespace pb = google::protobuf;

constexpr char kDatabase[] = "recondb.v1.Database";
constexpr char kHealth[] = "grpc.health.v1.Health";
constexpr char kReflection[] = "grpc.reflection.v1alpha.ServerReflection";

// One ServerReflectionInfo stream, one request and one answer at a time.
class ReflectionClient {
 public:
  explicit ReflectionClient(std::shared_ptr<grpc::Channel> channel)
      : stub_(refl::ServerReflection::NewStub(std::move(channel))) {
    SetDeadline(&ctx_, absl::Seconds(20));
    stream_ = stub_->ServerReflectionInfo(&ctx_);
  }

  ~ReflectionClient() {
    stream_->WritesDone();
    refl::ServerReflectionResponse ignored;
    while (stream_->Read(&ignored)) {
    }
    grpc::Status s = stream_->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  absl::StatusOr<refl::ServerReflectionResponse> Ask(const refl::ServerReflectionRequest& req) {
    if (!stream_->Write(req)) return absl::UnavailableError("reflection stream closed on write");
    refl::ServerReflectionResponse resp;
    if (!stream_->Read(&resp)) return absl::UnavailableError("reflection stream closed on read");
    if (resp.has_error_response()) {
      return absl::Status(static_cast<absl::StatusCode>(resp.error_response().error_code()),
                          resp.error_response().error_message());
    }
    return resp;
  }

  absl::StatusOr<std::vector<std::string>> ListServices() {
    refl::ServerReflectionRequest req;
    req.set_list_services("");
    absl::StatusOr<refl::ServerReflectionResponse> resp = Ask(req);
    if (!resp.ok()) return resp.status();
    std::vector<std::string> names;
    for (const auto& s : resp->list_services_response().service()) names.push_back(s.name());
    return names;
  }

  // The file defining `symbol` and those of its dependencies this stream
  // has not sent yet.
  absl::StatusOr<std::vector<pb::FileDescriptorProto>> FileContainingSymbol(
      const std::string& symbol) {
    refl::ServerReflectionRequest req;
    req.set_file_containing_symbol(symbol);
    return Files(req);
  }

  absl::StatusOr<std::vector<pb::FileDescriptorProto>> FileByFilename(const std::string& name) {
    refl::ServerReflectionRequest req;
    req.set_file_by_filename(name);
    return Files(req);
  }

 private:
  absl::StatusOr<std::vector<pb::FileDescriptorProto>> Files(
      const refl::ServerReflectionRequest& req) {
    absl::StatusOr<refl::ServerReflectionResponse> resp = Ask(req);
    if (!resp.ok()) return resp.status();
    std::vector<pb::FileDescriptorProto> files;
    for (const std::string& bytes : resp->file_descriptor_response().file_descriptor_proto()) {
      pb::FileDescriptorProto f;
      if (!f.ParseFromString(bytes)) return absl::InternalError("unparsable FileDescriptorProto");
      files.push_back(std::move(f));
    }
    return files;
  }

  std::unique_ptr<refl::ServerReflection::Stub> stub_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<refl::ServerReflectionRequest, refl::ServerReflectionResponse>>
      stream_;
};

// Descriptors learnt through reflection only, and calls made with them.
class ReflectedSchema {
 public:
  ReflectedSchema() : pool_(&db_), factory_(&pool_) {}

  void Add(const std::vector<pb::FileDescriptorProto>& files) {
    for (const pb::FileDescriptorProto& f : files) {
      if (names_.insert(f.name()).second) {
        EXPECT_TRUE(db_.Add(f)) << f.name();
      }
    }
  }
  const std::set<std::string>& file_names() const { return names_; }
  const pb::DescriptorPool& pool() const { return pool_; }

  // A message of the reflected type `full_name`, filled from `json`.
  absl::StatusOr<std::unique_ptr<pb::Message>> FromJson(const std::string& full_name,
                                                        const std::string& json) {
    const pb::Descriptor* d = pool_.FindMessageTypeByName(full_name);
    if (d == nullptr) return absl::NotFoundError(absl::StrCat("no message ", full_name));
    std::unique_ptr<pb::Message> m(factory_.GetPrototype(d)->New());
    auto s = pb::util::JsonStringToMessage(json, m.get());
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat("JSON -> ", full_name, ": ", s.ToString()));
    return m;
  }

  std::unique_ptr<pb::Message> New(const pb::Descriptor* d) {
    return std::unique_ptr<pb::Message>(factory_.GetPrototype(d)->New());
  }

 private:
  pb::SimpleDescriptorDatabase db_;
  pb::DescriptorPool pool_;
  pb::DynamicMessageFactory factory_;
  std::set<std::string> names_;
};

grpc::ByteBuffer ToBuffer(const pb::Message& m) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

bool FromBuffer(const grpc::ByteBuffer& buf, pb::Message* m) {
  std::vector<grpc::Slice> slices;
  if (!buf.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return m->ParseFromString(bytes);
}

std::string ToJson(const pb::Message& m) {
  std::string json;
  auto s = pb::util::MessageToJsonString(m, &json);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return json;
}

class ReflectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = data_.path();
    ASSERT_OK_AND_ASSIGN(daemon_, DaemonProcess::Start(options));
    channel_ = daemon_->NewChannel();
  }

  void TearDown() override {
    if (daemon_ == nullptr) return;
    channel_.reset();
    absl::StatusOr<int> code = daemon_->Stop();
    ASSERT_OK(code);
    EXPECT_EQ(*code, 0);
  }

  // Loads the descriptors of `services` through reflection.
  void LoadServices(ReflectedSchema* schema, const std::vector<std::string>& services) {
    ReflectionClient client(channel_);
    for (const std::string& service : services) {
      absl::StatusOr<std::vector<pb::FileDescriptorProto>> files = client.FileContainingSymbol(service);
      ASSERT_OK(files) << service;
      ASSERT_FALSE(files->empty()) << service;
      schema->Add(*files);
    }
  }

  // A unary call with a request built from JSON through the reflected
  // schema; the response as JSON.
  absl::StatusOr<std::string> CallJson(ReflectedSchema& schema, const std::string& service,
                                       const std::string& method, const std::string& json) {
    const pb::ServiceDescriptor* sd = schema.pool().FindServiceByName(service);
    if (sd == nullptr) return absl::NotFoundError(service);
    const pb::MethodDescriptor* md = sd->FindMethodByName(method);
    if (md == nullptr) return absl::NotFoundError(method);
    absl::StatusOr<std::unique_ptr<pb::Message>> req = schema.FromJson(md->input_type()->full_name(), json);
    if (!req.ok()) return req.status();

    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    grpc::ByteBuffer request = ToBuffer(**req);
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&ctx, absl::StrCat("/", service, "/", method), grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     std::lock_guard<std::mutex> l(mu);
                     status = std::move(s);
                     done = true;
                     cv.notify_one();
                   });
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return done; });
    }
    if (!status.ok()) return ToAbslStatus(status);
    std::unique_ptr<pb::Message> resp = schema.New(md->output_type());
    if (!FromBuffer(response, resp.get())) return absl::InternalError("unparsable response");
    return ToJson(*resp);
  }

  // A server-streaming call made the generic way (as a bidi stream with one
  // request); every response as JSON.
  absl::StatusOr<std::vector<std::string>> CallStreamJson(ReflectedSchema& schema,
                                                          const std::string& service,
                                                          const std::string& method,
                                                          const std::string& json) {
    const pb::MethodDescriptor* md = schema.pool().FindMethodByName(absl::StrCat(service, ".", method));
    if (md == nullptr) return absl::NotFoundError(method);
    absl::StatusOr<std::unique_ptr<pb::Message>> req = schema.FromJson(md->input_type()->full_name(), json);
    if (!req.ok()) return req.status();

    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    SetDeadline(&ctx, absl::Seconds(10));
    grpc::CompletionQueue cq;
    auto call = stub.PrepareCall(&ctx, absl::StrCat("/", service, "/", method), &cq);
    auto step = [&cq](void* tag) {
      void* got = nullptr;
      bool ok = false;
      if (!cq.Next(&got, &ok)) return false;
      EXPECT_EQ(got, tag);
      return ok;
    };
    int tag = 0;
    call->StartCall(&tag);
    bool ok = step(&tag);
    grpc::ByteBuffer request = ToBuffer(**req);
    if (ok) {
      call->Write(request, &tag);
      ok = step(&tag);
    }
    if (ok) {
      call->WritesDone(&tag);
      ok = step(&tag);
    }
    std::vector<std::string> out;
    while (ok) {
      grpc::ByteBuffer buf;
      call->Read(&buf, &tag);
      if (!step(&tag)) break;
      std::unique_ptr<pb::Message> resp = schema.New(md->output_type());
      if (!FromBuffer(buf, resp.get())) return absl::InternalError("unparsable response");
      out.push_back(ToJson(*resp));
    }
    grpc::Status status;
    call->Finish(&status, &tag);
    step(&tag);
    cq.Shutdown();
    void* ignored_tag;
    bool ignored_ok;
    while (cq.Next(&ignored_tag, &ignored_ok)) {
    }
    if (!status.ok()) return ToAbslStatus(status);
    return out;
  }

  TempDir data_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(ReflectionTest, ListServices) {
  ReflectionClient client(channel_);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, client.ListServices());
  EXPECT_THAT(services, IsSupersetOf({std::string(kDatabase), std::string(kHealth),
                                      std::string(kReflection)}));
}

// Reflection stays open with --auth=on: grpc_cli lists and describes the
// services before it has a token (docs/security.md, "What stays open").
TEST(ReflectionAuthTest, ReflectionNeedsNoCredentialsWithAuthOn) {
  TempDir data;
  DaemonOptions options;
  options.data_dir = data.path();
  options.extra_flags = {"--auth=on"};
  ASSERT_OK_AND_ASSIGN(auto daemon, DaemonProcess::Start(options));
  {
    ReflectionClient client(daemon->NewChannel());
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> services, client.ListServices());
    EXPECT_THAT(services, IsSupersetOf({std::string(kDatabase), std::string(kHealth)}));
  }
  EXPECT_OK(daemon->CheckHealth());
  ASSERT_OK_AND_ASSIGN(int code, daemon->Stop());
  EXPECT_EQ(code, 0);
}

TEST_F(ReflectionTest, EveryServiceResolvesWithItsMethods) {
  std::vector<std::string> services;
  {
    ReflectionClient client(channel_);
    ASSERT_OK_AND_ASSIGN(services, client.ListServices());
  }
  ReflectedSchema schema;
  LoadServices(&schema, services);
  EXPECT_THAT(schema.file_names(),
              IsSupersetOf({std::string("recondb/v1/database.proto"), std::string("recondb/v1/types.proto"),
                            std::string("grpc/health/v1/health.proto")}));
  for (const std::string& name : services) {
    SCOPED_TRACE(name);
    const pb::ServiceDescriptor* sd = schema.pool().FindServiceByName(name);
    ASSERT_NE(sd, nullptr);
    ASSERT_GT(sd->method_count(), 0);
    for (int i = 0; i < sd->method_count(); ++i) {
      const pb::MethodDescriptor* m = sd->method(i);
      EXPECT_NE(m->input_type(), nullptr) << m->full_name();
      EXPECT_NE(m->output_type(), nullptr) << m->full_name();
    }
  }

  const pb::ServiceDescriptor* db = schema.pool().FindServiceByName(kDatabase);
  ASSERT_NE(db, nullptr);
  std::vector<std::string> methods;
  for (int i = 0; i < db->method_count(); ++i) methods.push_back(db->method(i)->name());
  EXPECT_THAT(methods, IsSupersetOf({"CreateTable", "GetTable", "ListTables", "PutRecord", "GetRecord",
                                     "DeleteRecord", "ListRecords", "GetRecordHistory", "GetChanges"}));
  const pb::MethodDescriptor* changes = db->FindMethodByName("GetChanges");
  ASSERT_NE(changes, nullptr);
  EXPECT_TRUE(changes->server_streaming());
  EXPECT_FALSE(changes->client_streaming());
  EXPECT_EQ(db->FindMethodByName("PutRecord")->input_type()->full_name(), "recondb.v1.PutRecordRequest");

  const pb::ServiceDescriptor* health = schema.pool().FindServiceByName(kHealth);
  ASSERT_NE(health, nullptr);
  ASSERT_NE(health->FindMethodByName("Check"), nullptr);
  EXPECT_EQ(health->FindMethodByName("Check")->input_type()->full_name(),
            "grpc.health.v1.HealthCheckRequest");
  ASSERT_NE(health->FindMethodByName("Watch"), nullptr);

  // Messages resolve, down to the well-known types they use.
  const pb::Descriptor* value = schema.pool().FindMessageTypeByName("recondb.v1.Value");
  ASSERT_NE(value, nullptr);
  ASSERT_NE(value->FindFieldByName("timestamp"), nullptr);
  EXPECT_EQ(value->FindFieldByName("timestamp")->message_type()->full_name(), "google.protobuf.Timestamp");
}

TEST_F(ReflectionTest, LookupsByFileNameAndUnknownSymbols) {
  ReflectionClient client(channel_);
  ASSERT_OK_AND_ASSIGN(std::vector<pb::FileDescriptorProto> files,
                       client.FileByFilename("recondb/v1/types.proto"));
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files[0].name(), "recondb/v1/types.proto");
  ASSERT_OK_AND_ASSIGN(files, client.FileContainingSymbol("recondb.v1.Record"));
  EXPECT_THAT(client.FileContainingSymbol("recondb.v1.NoSuchThing"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ReflectionTest, DynamicCallsLikeGrpcCli) {
  ReflectedSchema schema;
  LoadServices(&schema, {kDatabase, kHealth});

  ASSERT_OK_AND_ASSIGN(std::string health, CallJson(schema, kHealth, "Check", "{}"));
  EXPECT_THAT(health, HasSubstr("SERVING"));

  ASSERT_OK_AND_ASSIGN(std::string table, CallJson(schema, kDatabase, "CreateTable", R"({
    "table": {"name": "todos", "columns": [
      {"name": "title", "type": "COLUMN_TYPE_STRING", "maxLength": 80},
      {"name": "description", "type": "COLUMN_TYPE_STRING", "nullable": true, "maxLength": 120},
      {"name": "completed", "type": "COLUMN_TYPE_BOOL", "defaultValue": {"bool": false}},
      {"name": "deadline_at", "type": "COLUMN_TYPE_TIMESTAMP", "nullable": true}]}})"));
  EXPECT_THAT(table, HasSubstr(R"("name":"todos")"));
  EXPECT_THAT(table, HasSubstr("createTime"));

  ASSERT_OK_AND_ASSIGN(std::string put, CallJson(schema, kDatabase, "PutRecord", R"({
    "record": {"table": "todos", "id": "my-record-id", "attributes": {
      "title": {"string": "Buy water filters"},
      "deadline_at": {"timestamp": "2030-01-01T10:00:00Z"}}}})"));
  EXPECT_THAT(put, HasSubstr(R"("title":{"string":"Buy water filters"})"));
  EXPECT_THAT(put, HasSubstr(R"("completed":{"bool":false})"));
  EXPECT_THAT(put, HasSubstr(R"("deadline_at":{"timestamp":"2030-01-01T10:00:00Z"})"));
  EXPECT_THAT(put, HasSubstr(R"("revision":"1-)"));

  ASSERT_OK_AND_ASSIGN(std::string got, CallJson(schema, kDatabase, "GetRecord",
                                                 R"({"table": "todos", "id": "my-record-id"})"));
  EXPECT_THAT(got, HasSubstr(R"("id":"my-record-id")"));
  EXPECT_THAT(got, HasSubstr(R"("title":{"string":"Buy water filters"})"));

  // An error comes back as a status, as grpc_cli would print it.
  EXPECT_THAT(CallJson(schema, kDatabase, "GetRecord", R"({"table": "todos", "id": "nope"})"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));

  // A server-streaming method, called generically.
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> changes,
                       CallStreamJson(schema, kDatabase, "GetChanges", R"({"since": "0"})"));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_THAT(changes[0], HasSubstr("CHANGE_KIND_TABLE"));
  EXPECT_THAT(changes[1], HasSubstr(R"("id":"my-record-id")"));
}

}  // namespace
}  // namespace recondb::testing
