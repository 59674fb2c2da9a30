#include "fuzz/replication_node.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace recondb::fuzz {
namespace {

void Require(const absl::Status& status) {
  if (!status.ok()) {
    std::fprintf(stderr, "setup failed: %s\n", status.ToString().c_str());
    std::abort();
  }
}

}  // namespace

reconciler::testing::Node ReplicationNode() {
  reconciler::testing::Node node = reconciler::testing::MemoryNode();
  Require(node.engine->CreateTable(reconciler::testing::NotesTable()).status());
  for (int i = 0; i < 3; ++i) {
    v1::Record record;
    record.set_table("notes");
    record.set_id("n" + std::to_string(i));
    (*record.mutable_attributes())["text"].set_string("note " + std::to_string(i));
    (*record.mutable_attributes())["rank"].set_int_(i);
    Require(node.engine->PutRecord(record, nullptr).status());
  }
  v1::DeleteRecordRequest del;
  del.set_table("notes");
  del.set_id("n2");
  Require(node.engine->DeleteRecord(del).status());
  return node;
}

}  // namespace recondb::fuzz
