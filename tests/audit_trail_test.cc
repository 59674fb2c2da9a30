// The audit trail after a three-node relay, through real recondbd processes
// (issue 13, point 5): a record written on a, updated on b, and synced
// a -> b -> c shows on every node the same principal, origin node and
// create time for each revision, in GetRecordHistory, in `recondb records
// history` (the CLI binary) and in plain SQL on each node's recondb.sqlite3.
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "tests/support/cluster.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/values.h"

extern char** environ;

namespace recondb::testing {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::HasSubstr;
using Row = std::vector<std::string>;

// Runs the recondb CLI with `args` (no RECONDB_* variables); its stdout, or
// a failure.
std::string RunCli(const std::vector<std::string>& args) {
  TempDir io;
  std::vector<std::string> argv_s = {RECONDB_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!absl::StartsWith(*e, "RECONDB_")) env_s.push_back(*e);
  }
  std::vector<char*> envp;
  for (std::string& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, io.File("out").c_str(), O_WRONLY | O_CREAT, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, io.File("err").c_str(), O_WRONLY | O_CREAT, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "cannot spawn " << argv[0];
    return "";
  }
  int status = 0;
  waitpid(pid, &status, 0);
  auto read = [&](const std::string& name) {
    std::ifstream in(io.File(name));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << read("err");
  return read("out");
}

// Every row of `sql` on the database file at `path`, opened read-only beside
// its running daemon as a user's sqlite3 shell would; columns as text.
std::vector<Row> PlainQuery(const std::string& path, const std::string& sql) {
  std::vector<Row> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return rows;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      Row& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.push_back(text == nullptr ? "NULL" : reinterpret_cast<const char*>(text));
      }
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

// "<revision> <author> <origin node> <create time>" per history entry.
std::vector<std::string> Audits(const v1::GetRecordHistoryResponse& history) {
  std::vector<std::string> out;
  for (const v1::HistoryEntry& e : history.entries()) {
    out.push_back(absl::StrCat(e.record().revision(), " ", e.author(), " ", e.origin_node(), " ",
                               TimeUtil::ToString(e.create_time())));
  }
  return out;
}

TEST(AuditTrailTest, ThreeNodeRelayShowsTheSameAuditEverywhere) {
  Cluster cluster;
  ASSERT_OK_AND_ASSIGN(int a, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int b, cluster.AddNode());
  ASSERT_OK_AND_ASSIGN(int c, cluster.AddNode());
  DbClient db_a(cluster.node(a).NewChannel());
  DbClient db_b(cluster.node(b).NewChannel());
  ASSERT_OK(db_a.CreateTable(TodoTable()));
  const absl::Time before = absl::Now();
  ASSERT_OK_AND_ASSIGN(v1::Record first,
                       db_a.Create("todos", {{"title", StringValue("Buy water filters")}}, "t1"));
  ASSERT_OK(cluster.Sync(b, cluster.address(a)).status());
  v1::Record update = first;
  update.clear_conflicted();
  (*update.mutable_attributes())["title"] = StringValue("Buy two water filters");
  ASSERT_OK_AND_ASSIGN(v1::Record second, db_b.PutRecord(update));
  const absl::Time after = absl::Now();
  // The relay: a -> b (done), b -> c, and b's update back to a.
  ASSERT_OK(cluster.Sync(c, cluster.address(b)).status());
  ASSERT_OK(cluster.Sync(a, cluster.address(b)).status());

  // The RPC: newest first; made on a then on b, by the principal of a node
  // without authentication, at a time between before and after.
  ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse on_a, db_a.GetRecordHistory("todos", "t1"));
  ASSERT_EQ(on_a.entries_size(), 2);
  const v1::HistoryEntry& made_on_b = on_a.entries(0);
  const v1::HistoryEntry& made_on_a = on_a.entries(1);
  EXPECT_EQ(made_on_b.record().revision(), second.revision());
  EXPECT_EQ(made_on_a.record().revision(), first.revision());
  EXPECT_EQ(made_on_a.author(), "anonymous");
  EXPECT_EQ(made_on_b.author(), "anonymous");
  EXPECT_EQ(made_on_a.origin_node(), cluster.node_id(a));
  EXPECT_EQ(made_on_b.origin_node(), cluster.node_id(b));
  const int64_t t_a = TimeUtil::TimestampToMicroseconds(made_on_a.create_time());
  const int64_t t_b = TimeUtil::TimestampToMicroseconds(made_on_b.create_time());
  EXPECT_LE(absl::ToUnixMicros(before), t_a);
  EXPECT_LE(t_a, t_b);
  EXPECT_LE(t_b, absl::ToUnixMicros(after));
  for (int node : {b, c}) {
    DbClient db(cluster.node(node).NewChannel());
    ASSERT_OK_AND_ASSIGN(v1::GetRecordHistoryResponse history, db.GetRecordHistory("todos", "t1"));
    EXPECT_EQ(Audits(history), Audits(on_a)) << "node " << node;
    db.Close();
  }

  // The CLI: the same table on every node, naming the author, both nodes
  // and both times.
  const std::string cli_a = RunCli({"records", "history", "todos", "t1", "--addr", cluster.address(a)});
  EXPECT_THAT(cli_a, HasSubstr("AUTHOR"));
  EXPECT_THAT(cli_a, HasSubstr(cluster.node_id(a)));
  EXPECT_THAT(cli_a, HasSubstr(cluster.node_id(b)));
  EXPECT_THAT(cli_a, HasSubstr("anonymous"));
  // The CLI prints times as RFC 3339 without trailing zeros, like values.
  std::string time_a = TimeUtil::ToString(made_on_a.create_time());
  EXPECT_THAT(cli_a, HasSubstr(time_a.substr(0, 19))) << time_a;
  // Each line up to the ATTRIBUTES column (c knows the first revision as a
  // stub, without attributes, but with its audit).
  auto audit_columns = [](const std::string& table) {
    const size_t width = table.find("ATTRIBUTES");
    std::vector<std::string> lines;
    for (absl::string_view line : absl::StrSplit(table, '\n')) {
      lines.push_back(std::string(line.substr(0, width)));
    }
    return lines;
  };
  ASSERT_THAT(audit_columns(cli_a), ::testing::SizeIs(4));  // Header, 2 revisions, "".
  for (int node : {b, c}) {
    EXPECT_EQ(audit_columns(RunCli(
                  {"records", "history", "todos", "t1", "--addr", cluster.address(node)})),
              audit_columns(cli_a))
        << "node " << node;
  }

  // Plain SQL: the same audit columns in every node's file.
  const std::string sql =
      "SELECT revision, _author, _origin_node, _create_time FROM todos_history"
      " WHERE id = 't1' ORDER BY generation";
  const std::vector<Row> rows = PlainQuery((cluster.data_dir(a) / "recondb.sqlite3").string(), sql);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (Row{first.revision(), "anonymous", cluster.node_id(a),
                          absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                                           absl::FromUnixMicros(t_a), absl::UTCTimeZone())}));
  EXPECT_EQ(rows[1][2], cluster.node_id(b));
  for (int node : {b, c}) {
    EXPECT_EQ(PlainQuery((cluster.data_dir(node) / "recondb.sqlite3").string(), sql), rows)
        << "node " << node;
  }
  db_a.Close();
  db_b.Close();
}

}  // namespace
}  // namespace recondb::testing
