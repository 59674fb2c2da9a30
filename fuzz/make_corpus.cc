// Writes the seed corpora of fuzz/corpus/ from real encodings: revision ids
// and values, page tokens the engine made, requests the service accepts
// (with revisions another node made, for ImportRevisions), and the message
// sequences of real syncs recorded on each side.
// Usage: make_corpus <dir>   (writes <dir>/<target>/<seed>; scripts/fuzz.sh
// --regenerate-corpus runs it over fuzz/corpus).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/internal/page_token.h"
#include "engine/revision.h"
#include "fuzz/frames.h"
#include "fuzz/replication_node.h"
#include "fuzz/tables.h"
#include "reconciler/pipe_stream.h"
#include "reconciler/session.h"
#include "recondb/v1/database.pb.h"

namespace recondb::fuzz {
namespace {

std::filesystem::path out_dir;

void Write(const std::string& target, const std::string& name, const std::string& bytes) {
  const std::filesystem::path dir = out_dir / target;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

template <typename T>
T Check(absl::StatusOr<T> value) {
  if (!value.ok()) {
    std::fprintf(stderr, "make_corpus: %s\n", value.status().ToString().c_str());
    std::abort();
  }
  return *std::move(value);
}

std::string Frames(const std::vector<std::pair<uint8_t, std::string>>& frames) {
  std::string out;
  for (const auto& [tag, bytes] : frames) AppendFrame(out, tag, bytes);
  return out;
}

// One value of every kind (and a few edges), with the column it goes in.
std::vector<std::pair<v1::Column, v1::Value>> SampleValues() {
  std::vector<std::pair<v1::Column, v1::Value>> out;
  const v1::Table table = EveryTypeTable();
  auto add = [&](int column, auto set) {
    v1::Value v;
    set(v);
    out.emplace_back(table.columns(column), v);
  };
  add(0, [](v1::Value& v) { v.set_string("h\xc3\xa9llo"); });
  add(1, [](v1::Value& v) { v.set_int_(-9223372036854775807LL - 1); });
  add(2, [](v1::Value& v) { v.set_float_(-0.0); });
  add(2, [](v1::Value& v) { v.set_float_(1.5e300); });
  add(3, [](v1::Value& v) { v.set_bool_(true); });
  add(4, [](v1::Value& v) {
    v.mutable_timestamp()->set_seconds(-1);  // Before 1970, sub-microsecond digits.
    v.mutable_timestamp()->set_nanos(999999999);
  });
  add(4, [](v1::Value& v) { v.mutable_timestamp()->set_seconds(253402300799); });
  add(5, [](v1::Value& v) { v.set_bytes(std::string("\0\xff", 2)); });
  add(6, [](v1::Value& v) { v.set_null(google::protobuf::NULL_VALUE); });
  return out;
}

void RevisionSeeds() {
  const std::vector<std::string> ids = {
      "1-0123456789abcdef0123456789abcdef", "9223372036854775807-ffffffffffffffffffffffffffffffff",
      "9223372036854775808-ffffffffffffffffffffffffffffffff", "01-0123456789abcdef0123456789abcdef",
      "0-0123456789abcdef0123456789abcdef", "1-0123456789ABCDEF0123456789abcdef", "1-", "-", ""};
  int n = 0;
  for (const std::string& id : ids) Write("revision", "id" + std::to_string(n++), Frames({{0, id}}));
  std::vector<std::pair<uint8_t, std::string>> content = {
      {0, ids[0]}, {0, "notes"}, {1, "r\xc3\xa9"}, {2, ids[0]}, {3, "\0"}};
  for (const auto& [column, value] : SampleValues()) {
    content.emplace_back(4, column.SerializeAsString());
    content.emplace_back(0, value.SerializeAsString());
    Write("revision", "value" + std::to_string(n++),
          Frames({{0, ids[0]}, {4, column.SerializeAsString()}, {0, value.SerializeAsString()}}));
  }
  Write("revision", "content", Frames(content));
  Write("revision", "tombstone", Frames({{0, ids[1]}, {2, ids[0]}, {3, "\1"}}));
}

void AttributesSeeds() {
  const v1::Table table = EveryTypeTable();
  v1::Record full;
  for (const auto& [column, value] : SampleValues()) {
    (*full.mutable_attributes())[column.name()] = value;
  }
  v1::Record one;
  (*one.mutable_attributes())["s"].set_string("x");
  google::protobuf::FieldMask mask;
  mask.add_paths("f");
  mask.add_paths("t");
  v1::Record prefix;  // A revision written when the table had two columns.
  (*prefix.mutable_attributes())["s"].set_string("old");
  (*prefix.mutable_attributes())["i"].set_int_(1);
  Write("attributes", "full", Frames({{1, full.SerializeAsString()}}));
  Write("attributes", "defaults", Frames({{1, one.SerializeAsString()}}));
  Write("attributes", "masked", Frames({{1, full.SerializeAsString()},
                                        {2, mask.SerializeAsString()},
                                        {3, prefix.SerializeAsString()}}));
  Write("attributes", "held", Frames({{3, full.SerializeAsString()}}));
  Write("attributes", "table", Frames({{0, table.SerializeAsString()},
                                       {1, one.SerializeAsString()},
                                       {3, prefix.SerializeAsString()}}));
}

void PageTokenSeeds() {
  v1::ListRecordsRequest query;
  query.set_table("every");
  query.set_order_by("i");
  v1::Condition* c = query.add_filter();
  c->set_column("s");
  c->set_op(v1::OPERATOR_GE);
  c->mutable_value()->set_string("a");
  int n = 0;
  for (const auto& [column, value] : SampleValues()) {
    storage::ViewCursor cursor;
    cursor.order_value = value;
    cursor.id = "r" + std::to_string(n);
    const std::string fingerprint = engine::internal::QueryFingerprint(query);
    const std::string token = engine::internal::EncodePageToken(fingerprint, cursor);
    Write("page_token", "token" + std::to_string(n++),
          Frames({{0, query.SerializeAsString()}, {1, token}, {2, value.SerializeAsString()},
                  {3, cursor.id}}));
  }
  Write("page_token", "by_id", Frames({{1, "AQ"}, {3, "\xc3\xa9"}}));
}

// Frame tags of database_service_fuzzer: the RPC's index in database.proto.
enum Rpc : uint8_t {
  kCreateTable, kAddColumns, kGetTable, kListTables, kPutRecord, kGetRecord, kDeleteRecord,
  kResolveConflict, kListRecords, kGetRecordHistory, kGetChanges, kImportRevisions
};

void ServiceSeeds() {
  // Revisions another node made of "every", as an export would carry them.
  reconciler::testing::Node other = reconciler::testing::MemoryNode();
  Check(other.engine->CreateTable(EveryTypeTable()));
  v1::Record rec;
  rec.set_table("every");
  rec.set_id("imported");
  for (const auto& [column, value] : SampleValues()) {
    if (column.name() != "m") (*rec.mutable_attributes())[column.name()] = value;
  }
  const v1::Record first = Check(other.engine->PutRecord(rec, nullptr));
  rec.set_revision(first.revision());
  (*rec.mutable_attributes())["s"].set_string("second");
  Check(other.engine->PutRecord(rec, nullptr));
  v1::GetRecordHistoryRequest history;
  history.set_table("every");
  history.set_id("imported");
  v1::ImportRevisionsRequest import;
  // Held by name: a range-for over a member of a temporary would dangle.
  const v1::GetRecordHistoryResponse got = Check(other.engine->GetRecordHistory(history));
  for (const v1::HistoryEntry& e : got.entries()) {
    *import.add_revisions() = e;
  }

  v1::PutRecordRequest put;
  put.mutable_record()->set_table("every");
  put.mutable_record()->set_id("r2");
  *put.mutable_record()->mutable_attributes() = rec.attributes();
  v1::PutRecordRequest update;  // Of the seed record r1 (without revision: refused).
  update.mutable_record()->set_table("every");
  update.mutable_record()->set_id("r1");
  (*update.mutable_record()->mutable_attributes())["i"].set_int_(3);
  update.mutable_update_mask()->add_paths("i");
  v1::GetRecordRequest get;
  get.set_table("every");
  get.set_id("r1");
  get.set_include_conflicts(true);
  v1::DeleteRecordRequest del;
  del.set_table("every");
  del.set_id("r1");
  v1::ListRecordsRequest list;
  list.set_table("every");
  list.set_order_by("t");
  list.set_descending(true);
  list.set_page_size(1);
  v1::Condition* c = list.add_filter();
  c->set_column("i");
  c->set_op(v1::OPERATOR_LT);
  c->mutable_value()->set_int_(100);
  list.add_filter()->set_column("f");
  list.mutable_filter(1)->set_op(v1::OPERATOR_IS_NULL);
  v1::CreateTableRequest create;
  *create.mutable_table() = EveryTypeTable();
  create.mutable_table()->set_name("copy");
  v1::AddColumnsRequest add;
  add.set_table("every");
  v1::Column* column = add.add_columns();
  column->set_name("extra");
  column->set_type(v1::COLUMN_TYPE_INT);
  column->set_nullable(true);
  v1::GetChangesRequest changes;
  changes.add_tables("every");
  v1::GetTableRequest table;
  table.set_name("every");
  v1::ResolveConflictRequest resolve;
  *resolve.mutable_record() = update.record();
  v1::GetRecordHistoryRequest every_history;
  every_history.set_table("every");
  every_history.set_id("r1");

  auto s = [](const google::protobuf::Message& m) { return m.SerializeAsString(); };
  Write("database_service", "import", Frames({{kImportRevisions, s(import)},
                                               {kGetRecordHistory, s(history)}}));
  Write("database_service", "writes", Frames({{kPutRecord, s(put)}, {kPutRecord, s(update)},
                                               {kGetRecord, s(get)}, {kDeleteRecord, s(del)},
                                               {kGetChanges, s(changes)}}));
  Write("database_service", "reads", Frames({{kListRecords, s(list)}, {kGetTable, s(table)},
                                              {kListTables, ""}, {kGetRecordHistory,
                                              s(every_history)}}));
  Write("database_service", "schema", Frames({{kCreateTable, s(create)}, {kAddColumns, s(add)},
                                               {kResolveConflict, s(resolve)}}));
  v1::ImportRevisionsRequest forged = import;  // Same id, other content.
  (*forged.mutable_revisions(0)->mutable_record()->mutable_attributes())["s"].set_string("forged");
  Write("database_service", "forged", Frames({{kImportRevisions, s(forged)}}));
}

// Records what one end of a pipe reads: what the other side sent.
class Recorder final : public reconciler::MessageStream {
 public:
  explicit Recorder(reconciler::MessageStream* inner) : inner_(inner) {}
  bool Read(v1::ReplicateMessage* m) override {
    if (!inner_->Read(m)) return false;
    absl::MutexLock lock(&mu_);
    read_.push_back(*m);
    return true;
  }
  bool Write(const v1::ReplicateMessage& m) override { return inner_->Write(m); }
  void WritesDone() override { inner_->WritesDone(); }
  void Cancel() override { inner_->Cancel(); }
  std::vector<v1::ReplicateMessage> read() {
    absl::MutexLock lock(&mu_);
    return read_;
  }

 private:
  reconciler::MessageStream* inner_;
  absl::Mutex mu_;
  std::vector<v1::ReplicateMessage> read_;
};

std::string SessionSeed(uint8_t setup, const std::vector<v1::ReplicateMessage>& messages) {
  std::string out;
  AppendFrame(out, setup, "");
  for (const auto& m : messages) {
    const std::string bytes = m.SerializeAsString();
    if (bytes.size() < 65536) AppendFrame(out, 0, bytes);
  }
  return out;
}

// One one-shot sync between `peer` (dialing or accepting) and a
// ReplicationNode, both directions recorded: a seed for the fuzzer playing
// each side.
void RecordSync(const std::string& name, reconciler::testing::Node& peer, int version) {
  reconciler::testing::Node node = ReplicationNode();
  reconciler::PipeEnds pipe = reconciler::MakePipe(16);
  Recorder dialer_end(pipe.first.get()), acceptor_end(pipe.second.get());
  auto options = [&](engine::Engine* engine, bool dialer) {
    reconciler::SessionOptions o;
    o.engine = engine;
    o.dialer = dialer;
    o.mode = v1::SESSION_MODE_ONE_SHOT;
    o.batch_records = 2;
    o.window = 2;
    o.part_bytes = 512;
    o.max_protocol_version = version;
    return o;
  };
  reconciler::Session a(options(peer.engine.get(), true), &dialer_end);
  reconciler::Session b(options(node.engine.get(), false), &acceptor_end);
  absl::Status acceptor_status;
  std::thread other([&] { acceptor_status = b.Run(); });
  const absl::Status dialer_status = a.Run();
  other.join();
  if (!dialer_status.ok() || !acceptor_status.ok()) {
    std::fprintf(stderr, "make_corpus: sync %s: %s / %s\n", name.c_str(),
                 dialer_status.ToString().c_str(), acceptor_status.ToString().c_str());
    std::abort();
  }
  const uint8_t v = static_cast<uint8_t>((version == reconciler::kProtocolVersion ? 0 : version)
                                         << 2);
  // The fuzzed node accepts what the peer (dialer) sent, or dials and gets
  // what the ReplicationNode (acceptor) sent.
  Write("replication_session", name + "_accepting", SessionSeed(v, acceptor_end.read()));
  Write("replication_session", name + "_dialing", SessionSeed(v | 1, dialer_end.read()));
}

void SessionSeeds() {
  reconciler::testing::Node empty = reconciler::testing::MemoryNode();
  RecordSync("empty_peer", empty, reconciler::kProtocolVersion);
  // A peer with other edits of the same records: conflicts both ways.
  reconciler::testing::Node edited = ReplicationNode();
  v1::GetRecordRequest get;
  get.set_table("notes");
  get.set_id("n0");
  v1::Record n0 = Check(edited.engine->GetRecord(get));
  (*n0.mutable_attributes())["text"].set_string("edited");
  Check(edited.engine->PutRecord(n0, nullptr));
  v1::Record n9;
  n9.set_table("notes");
  n9.set_id("n9");
  (*n9.mutable_attributes())["text"].set_string("new");
  Check(edited.engine->PutRecord(n9, nullptr));
  v1::Table extra;  // A table only the peer has.
  extra.set_name("extra");
  v1::Column* c = extra.add_columns();
  c->set_name("v");
  c->set_type(v1::COLUMN_TYPE_BYTES);
  Check(edited.engine->CreateTable(extra));
  RecordSync("edited_peer", edited, reconciler::kProtocolVersion);
  RecordSync("edited_peer_v2", edited, 2);
  RecordSync("edited_peer_v1", edited, 1);
}

}  // namespace
}  // namespace recondb::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  recondb::fuzz::out_dir = argv[1];
  recondb::fuzz::RevisionSeeds();
  recondb::fuzz::AttributesSeeds();
  recondb::fuzz::PageTokenSeeds();
  recondb::fuzz::ServiceSeeds();
  recondb::fuzz::SessionSeeds();
  return 0;
}
