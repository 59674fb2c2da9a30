#include "tests/support/db_client.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace recondb::testing {

absl::Status ToAbslStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

void SetDeadline(grpc::ClientContext* ctx, absl::Duration timeout) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::microseconds(absl::ToInt64Microseconds(timeout)));
}

v1::Record MakeRecord(std::string_view table, std::string_view id, std::string_view revision,
                      const Attributes& attributes) {
  v1::Record r;
  r.set_table(std::string(table));
  r.set_id(std::string(id));
  r.set_revision(std::string(revision));
  for (const auto& [name, value] : attributes) (*r.mutable_attributes())[name] = value;
  return r;
}

v1::Table TodoTable(std::string_view name) {
  v1::Table t;
  t.set_name(std::string(name));
  v1::Column* c = t.add_columns();
  c->set_name("title");
  c->set_type(v1::COLUMN_TYPE_STRING);
  c->set_nullable(false);
  c->set_max_length(80);
  c = t.add_columns();
  c->set_name("description");
  c->set_type(v1::COLUMN_TYPE_STRING);
  c->set_nullable(true);
  c->set_max_length(120);
  c = t.add_columns();
  c->set_name("completed");
  c->set_type(v1::COLUMN_TYPE_BOOL);
  c->set_nullable(false);
  *c->mutable_default_value() = BoolValue(false);
  c = t.add_columns();
  c->set_name("deadline_at");
  c->set_type(v1::COLUMN_TYPE_TIMESTAMP);
  c->set_nullable(true);
  return t;
}

int64_t GenerationOf(std::string_view revision) {
  size_t dash = revision.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 18) return -1;
  int64_t g = 0;
  for (char c : revision.substr(0, dash)) {
    if (c < '0' || c > '9') return -1;
    g = g * 10 + (c - '0');
  }
  return g;
}

namespace {
bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
}  // namespace

bool IsRevision(std::string_view revision) {
  size_t dash = revision.find('-');
  if (dash == std::string_view::npos || dash == 0 || revision[0] == '0') return false;
  if (GenerationOf(revision) < 1) return false;
  std::string_view hex = revision.substr(dash + 1);
  if (hex.size() != 32) return false;
  for (char c : hex) {
    if (!IsLowerHex(c)) return false;
  }
  return true;
}

bool IsUuidV7(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (id[i] != '-') return false;
    } else if (!IsLowerHex(id[i])) {
      return false;
    }
  }
  return id[14] == '7' && (id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

DbClient::DbClient(std::shared_ptr<grpc::Channel> channel, absl::Duration timeout)
    : stub_(v1::Database::NewStub(std::move(channel))), timeout_(timeout) {}

absl::StatusOr<v1::Table> DbClient::CreateTable(const v1::Table& table) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::CreateTableRequest req;
  *req.mutable_table() = table;
  v1::Table resp;
  grpc::Status s = stub_->CreateTable(&ctx, req, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<v1::Table> DbClient::GetTable(std::string_view name) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::GetTableRequest req;
  req.set_name(std::string(name));
  v1::Table resp;
  grpc::Status s = stub_->GetTable(&ctx, req, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<std::vector<v1::Table>> DbClient::ListTables() {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::ListTablesResponse resp;
  grpc::Status s = stub_->ListTables(&ctx, v1::ListTablesRequest(), &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return std::vector<v1::Table>(resp.tables().begin(), resp.tables().end());
}

absl::StatusOr<v1::Record> DbClient::PutRecord(const v1::Record& record,
                                               std::optional<std::vector<std::string>> mask) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::PutRecordRequest req;
  *req.mutable_record() = record;
  if (mask.has_value()) {
    req.mutable_update_mask();
    for (const std::string& p : *mask) req.mutable_update_mask()->add_paths(p);
  }
  v1::Record resp;
  grpc::Status s = stub_->PutRecord(&ctx, req, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<v1::Record> DbClient::Create(std::string_view table, const Attributes& attributes,
                                            std::string_view id) {
  return PutRecord(MakeRecord(table, id, "", attributes));
}

absl::StatusOr<v1::Record> DbClient::GetRecord(std::string_view table, std::string_view id,
                                               std::string_view revision, bool include_conflicts) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::GetRecordRequest req;
  req.set_table(std::string(table));
  req.set_id(std::string(id));
  req.set_revision(std::string(revision));
  req.set_include_conflicts(include_conflicts);
  v1::Record resp;
  grpc::Status s = stub_->GetRecord(&ctx, req, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<v1::Record> DbClient::DeleteRecord(std::string_view table, std::string_view id,
                                                  std::string_view revision) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::DeleteRecordRequest req;
  req.set_table(std::string(table));
  req.set_id(std::string(id));
  req.set_revision(std::string(revision));
  v1::Record resp;
  grpc::Status s = stub_->DeleteRecord(&ctx, req, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<v1::ListRecordsResponse> DbClient::ListRecords(
    const v1::ListRecordsRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::ListRecordsResponse resp;
  grpc::Status s = stub_->ListRecords(&ctx, request, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<std::vector<v1::Record>> DbClient::ListAll(v1::ListRecordsRequest request,
                                                          int max_pages) {
  std::vector<v1::Record> out;
  request.clear_page_token();
  for (int page = 0; page < max_pages; ++page) {
    absl::StatusOr<v1::ListRecordsResponse> resp = ListRecords(request);
    if (!resp.ok()) return resp.status();
    for (const v1::Record& r : resp->records()) out.push_back(r);
    if (resp->next_page_token().empty()) return out;
    request.set_page_token(resp->next_page_token());
  }
  return absl::InternalError(absl::StrCat("ListRecords did not end within ", max_pages, " pages"));
}

absl::StatusOr<v1::GetRecordHistoryResponse> DbClient::GetRecordHistory(std::string_view table,
                                                                        std::string_view id) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::GetRecordHistoryRequest req;
  req.set_table(std::string(table));
  req.set_id(std::string(id));
  v1::GetRecordHistoryResponse resp;
  grpc::Status s = stub_->GetRecordHistory(&ctx, req, &resp);
  if (!s.ok()) return ToAbslStatus(s);
  return resp;
}

absl::StatusOr<std::vector<v1::Change>> DbClient::GetChanges(
    int64_t since, const std::vector<std::string>& tables) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx, timeout_);
  v1::GetChangesRequest req;
  req.set_since(since);
  for (const std::string& t : tables) req.add_tables(t);
  req.set_follow(false);
  std::unique_ptr<grpc::ClientReader<v1::Change>> reader = stub_->GetChanges(&ctx, req);
  std::vector<v1::Change> out;
  v1::Change c;
  while (reader->Read(&c)) out.push_back(c);
  grpc::Status s = reader->Finish();
  if (!s.ok()) return ToAbslStatus(s);
  return out;
}

absl::StatusOr<int64_t> DbClient::LastSeq() {
  absl::StatusOr<std::vector<v1::Change>> changes = GetChanges(0);
  if (!changes.ok()) return changes.status();
  int64_t last = 0;
  for (const v1::Change& c : *changes) last = std::max(last, c.seq());
  return last;
}

}  // namespace recondb::testing
