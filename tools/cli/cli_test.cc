// The `recondb` binary against real recondbd processes: every subcommand's
// happy path and error path (exit code and message), export/import round
// trips that keep revisions, and progress output when stderr is not a
// terminal. Each test starts its own daemon on a free loopback port.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/revision.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "recondb/v1/admin.pb.h"
#include "tests/support/daemon_process.h"
#include "tests/support/db_client.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace recondb::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

struct CliResult {
  int exit = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// Spawns recondb with `args`, stdin from `stdin_path` (or /dev/null),
// stdout and stderr to files in `dir`, and the environment of the test
// without RECONDB_ADDR plus `env`. Returns the pid.
pid_t SpawnCli(const TempDir& dir, const std::vector<std::string>& args,
               const std::string& stdin_path, const std::vector<std::string>& env) {
  std::vector<std::string> argv_s = {RECONDB_CLI_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string(*e).rfind("RECONDB_ADDR=", 0) != 0) env_s.push_back(*e);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(
      &actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, dir.File("stdout").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, dir.File("stderr").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(rc, 0) << "cannot spawn " << argv[0];
  return rc == 0 ? pid : -1;
}

int WaitExit(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = data_.path();
    ASSERT_OK_AND_ASSIGN(daemon_, DaemonProcess::Start(options));
  }

  void TearDown() override {
    for (auto& d : {&daemon_, &other_}) {
      if (*d == nullptr || !(*d)->running()) continue;
      absl::StatusOr<int> code = (*d)->Stop();
      ASSERT_OK(code);
      EXPECT_EQ(*code, 0);
    }
  }

  // Runs recondb against daemon_ (unless args name --addr) and waits.
  CliResult Run(std::vector<std::string> args, const std::string& stdin_text = "",
                const std::vector<std::string>& env = {}) {
    return RunAt(daemon_->address(), std::move(args), stdin_text, env);
  }

  CliResult RunAt(const std::string& addr, std::vector<std::string> args,
                  const std::string& stdin_text = "", const std::vector<std::string>& env = {}) {
    if (!addr.empty()) args.push_back("--addr=" + addr);
    std::string stdin_path;
    if (!stdin_text.empty()) {
      stdin_path = io_.File("stdin");
      WriteFile(stdin_path, stdin_text);
    }
    CliResult r;
    pid_t pid = SpawnCli(io_, args, stdin_path, env);
    if (pid < 0) return r;
    r.exit = WaitExit(pid);
    r.out = ReadFile(io_.File("stdout"));
    r.err = ReadFile(io_.File("stderr"));
    return r;
  }

  // Creates the todo table through the CLI.
  void CreateTodos(const std::string& addr = "") {
    CliResult r =
        RunAt(addr.empty() ? daemon_->address() : addr,
              {"tables", "create", "todos", "--column", "title:string,max=80", "--column",
               "description:string,nullable,max=120", "--column", "completed:bool,default=false",
               "--column", "deadline_at:timestamp,nullable"});
    ASSERT_EQ(r.exit, 0) << r.err;
  }

  // `records put` with --json; returns the written record.
  v1::Record Put(std::vector<std::string> args, const std::string& addr = "") {
    args.insert(args.begin(), {"records", "put"});
    args.push_back("--json");
    CliResult r = RunAt(addr.empty() ? daemon_->address() : addr, args);
    EXPECT_EQ(r.exit, 0) << r.err;
    v1::Record record;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &record).ok()) << r.out;
    return record;
  }

  // Grafts two concurrent edits of `base` (a live revision of todos/`id`
  // on daemon_) with ImportRevisions, as replication would: `base` with
  // title "<id> from a", resp. "<id> from b". Returns {winner, loser}.
  // Imports a live edit and a delete of `base`, both its children, as two
  // peers would make them: the edit wins and the delete is a deleted
  // conflict. Returns {edit, tombstone}.
  std::pair<std::string, std::string> MakeDeletedConflict(const v1::Record& base) {
    v1::ImportRevisionsRequest request;
    std::vector<std::string> made;
    for (bool deleted : {false, true}) {
      v1::HistoryEntry* entry = request.add_revisions();
      v1::Record* record = entry->mutable_record();
      *record = base;
      record->set_deleted(deleted);
      if (deleted) {
        record->clear_attributes();
      } else {
        (*record->mutable_attributes())["title"].set_string(base.id() + " edited");
      }
      entry->set_parent_revision(base.revision());
      const storage::Attributes attributes(record->attributes().begin(),
                                           record->attributes().end());
      record->set_revision(
          engine::ComputeRevision(GenerationOf(base.revision()) + 1,
                                  {"todos", base.id(), base.revision(), deleted, &attributes}));
      made.push_back(record->revision());
    }
    DbClient db(daemon_->NewChannel());
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::ImportRevisionsResponse response;
    grpc::Status status = db.stub()->ImportRevisions(&ctx, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    db.Close();
    return {made[0], made[1]};
  }

  std::pair<std::string, std::string> MakeConflict(const v1::Record& base) {
    v1::ImportRevisionsRequest request;
    std::vector<std::string> edits;
    for (const char* node : {"a", "b"}) {
      v1::HistoryEntry* entry = request.add_revisions();
      v1::Record* record = entry->mutable_record();
      *record = base;
      (*record->mutable_attributes())["title"].set_string(absl::StrCat(base.id(), " from ", node));
      entry->set_parent_revision(base.revision());
      const storage::Attributes attributes(record->attributes().begin(),
                                           record->attributes().end());
      record->set_revision(engine::ComputeRevision(
          GenerationOf(base.revision()) + 1,
          {"todos", base.id(), base.revision(), false, &attributes}));
      edits.push_back(record->revision());
    }
    DbClient db(daemon_->NewChannel());
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::ImportRevisionsResponse response;
    grpc::Status status = db.stub()->ImportRevisions(&ctx, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    db.Close();
    std::sort(edits.begin(), edits.end());  // Same generation: the greater hash wins.
    return {edits[1], edits[0]};
  }

  TempDir data_;
  TempDir io_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::unique_ptr<DaemonProcess> other_;
};

TEST_F(CliTest, HelpListsCommandsAndWhatIsMissing) {
  CliResult r = Run({"--help"});
  EXPECT_EQ(r.exit, 0);
  EXPECT_THAT(r.out,
              AllOf(HasSubstr("records put"), HasSubstr("tables create"), HasSubstr("export"),
                    HasSubstr("Exit codes"), HasSubstr("peers add HOST:PORT"),
                    HasSubstr("sync HOST:PORT"), HasSubstr("status")));
  for (const char* command :
       {"tables list", "tables create", "tables show", "tables add-columns", "records put",
        "records get", "records list", "records delete", "records history",
        "records conflicts", "records resolve", "changes", "health", "export", "import",
        "status", "peers list", "peers add", "peers remove", "sync"}) {
    std::vector<std::string> args = absl::StrSplit(command, ' ');
    args.push_back("--help");
    r = Run(args);
    EXPECT_EQ(r.exit, 0) << command;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("Usage: recondb ", command))) << command;
  }
}

TEST_F(CliTest, UsageErrorsExitOne) {
  CliResult r = Run({"frobnicate"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));
  r = Run({"records"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("missing subcommand: recondb records put|get|list"));
  r = Run({"tables", "list", "--bogus"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown option --bogus"));
  r = Run({"records", "get", "todos"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("expected arguments: TABLE ID"));
  r = Run({"peers"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("missing subcommand: recondb peers list|add|remove"));
  r = Run({"peers", "add"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("expected arguments: HOST:PORT"));
  r = Run({"sync"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("expected arguments: HOST:PORT"));
  r = Run({"tables", "create", "t", "--column", "x:varchar"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown column type \"varchar\""));
  r = Run({"health", "--timeout", "soon"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("bad --timeout"));
}

// Issue 15: `recondb --addr HOST:PORT tables list`, the README's form,
// answered `unknown command ""`: global options count before, between and
// after the command words, in both forms.
TEST_F(CliTest, GlobalOptionsBeforeTheCommandWork) {
  CreateTodos();
  const std::string addr = daemon_->address();
  CliResult r = RunAt("", {"--addr", addr, "tables", "list"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("todos"));
  r = RunAt("", {"--addr=" + addr, "--json", "health"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"SERVING\""));
  r = RunAt("", {"--timeout", "5s", "--addr", addr, "health"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  // Between the command words, and mixed with the command's own options.
  r = RunAt("", {"tables", "--addr", addr, "--json", "show", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::Table table;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &table).ok()) << r.out;
  EXPECT_EQ(table.name(), "todos");
  r = RunAt("", {"--addr", addr, "records", "put", "todos", "a", "--set", "title=A", "--json"});
  EXPECT_EQ(r.exit, 0) << r.err;
  // The last value wins wherever each stands.
  r = RunAt("", {"--addr", "127.0.0.1:1", "records", "get", "--addr=" + addr, "todos", "a"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("A"));
  // Help before the command is the command's help.
  r = RunAt("", {"--help", "tables", "show"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Usage: recondb tables show TABLE"));
  r = RunAt("", {"--json", "--help"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Exit codes"));
}

TEST_F(CliTest, OptionsBeforeTheCommandThatAreWrongAreNamed) {
  const std::string addr = daemon_->address();
  CliResult r = RunAt("", {"--bogus", "tables", "list"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("recondb: unknown option --bogus"));
  r = RunAt("", {"tables", "--bogus=1", "list"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("recondb: unknown option --bogus"));
  // A command's own option is known, but only after the command's words.
  r = RunAt("", {"--column", "x:int", "tables", "create", "t", "--addr", addr});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("option --column must follow the command"));
  r = RunAt("", {"--addr"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("option --addr needs a value (HOST:PORT)"));
  r = RunAt("", {"--json=yes", "health"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("option --json takes no value"));
  r = RunAt("", {"--timeout", "soon", "health", "--addr", addr});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("bad --timeout \"soon\""));
  r = RunAt("", {"--addr", addr, "frobnicate"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));
  r = RunAt("", {"--addr", addr, "tables", "frob"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"tables frob\""));
  r = RunAt("", {"--addr", addr, "records", "--json"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("missing subcommand: recondb records put|get|list"));
  r = RunAt("", {"--addr", addr, "--json"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("missing command"));
}

TEST_F(CliTest, Tables) {
  CreateTodos();
  CliResult r = Run({"tables", "list"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("NAME"), HasSubstr("todos")));
  r = Run({"tables", "show", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("deadline_at"), HasSubstr("timestamp"), HasSubstr("80")));
  r = Run({"tables", "show", "todos", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::Table table;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &table).ok()) << r.out;
  EXPECT_THAT(table.columns(), SizeIs(4));
  EXPECT_EQ(table.columns(2).default_value().bool_(), false);
  EXPECT_TRUE(table.columns(2).default_value().has_bool_());

  r = Run({"tables", "create", "notes", "--json-input", "-"},
          R"({"columns": [{"name": "body", "type": "COLUMN_TYPE_STRING"}]})");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("body"));

  r = Run({"tables", "create", "todos", "--column", "title:string"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("ALREADY_EXISTS"), HasSubstr("todos")));
  r = Run({"tables", "show", "nope"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("NOT_FOUND"), HasSubstr("nope")));
}

TEST_F(CliTest, RecordsLifecycle) {
  CreateTodos();
  v1::Record created = Put({"todos", "t1", "--set", "title=Buy water filters", "--set",
                            "deadline_at=2026-01-01T00:00:00Z"});
  EXPECT_EQ(created.id(), "t1");
  EXPECT_EQ(created.attributes().at("completed").bool_(), false);

  // Partial update: only `completed` changes.
  v1::Record updated =
      Put({"todos", "t1", "--revision", created.revision(), "--set", "completed=true"});
  EXPECT_EQ(updated.attributes().at("title").string(), "Buy water filters");
  EXPECT_TRUE(updated.attributes().at("completed").bool_());
  EXPECT_EQ(GenerationOf(updated.revision()), 2);

  CliResult r = Run({"records", "get", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("Buy water filters"), HasSubstr(updated.revision()),
                           HasSubstr("2026-01-01T00:00:00Z")));
  r = Run({"records", "get", "todos", "t1", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr(R"("id":"t1")"), HasSubstr(R"("completed":{"bool":true})"),
                           HasSubstr(R"("title":{"string":"Buy water filters"})")));
  r = Run({"records", "get", "todos", "t1", "--revision", created.revision()});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(created.revision()));

  // JSON input from stdin, id assigned by the server.
  r = Run({"records", "put", "todos", "--json-input", "-", "--json"},
          R"({"attributes": {"title": {"string": "Boil water"}}})");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Boil water"));

  r = Run({"records", "list", "todos", "--where", "completed = true"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("t1"), Not(HasSubstr("Boil water"))));
  r = Run({"records", "list", "todos", "--json", "--order-by", "title"});
  ASSERT_EQ(r.exit, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_THAT(lines[0], HasSubstr("Boil water"));
  r = Run({"records", "list", "todos", "--limit", "1", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(std::vector<std::string>(absl::StrSplit(r.out, '\n', absl::SkipEmpty())), SizeIs(1));

  r = Run({"records", "history", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr(created.revision()), HasSubstr(updated.revision())));
  r = Run({"records", "conflicts", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no conflicts"));

  r = Run({"records", "delete", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted:"));
  r = Run({"records", "get", "todos", "t1"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("NOT_FOUND"), HasSubstr("t1")));
  r = Run({"records", "delete", "todos", "t1"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
}

TEST_F(CliTest, RecordErrors) {
  CreateTodos();
  v1::Record created = Put({"todos", "t1", "--set", "title=a"});
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::vector<std::string> messages;
  };
  const std::vector<Case> cases = {
      {{"records", "put", "nope", "--set", "title=x"}, 2, {"NOT_FOUND", "nope"}},
      {{"records", "get", "nope", "t1"}, 2, {"NOT_FOUND", "nope"}},
      {{"records", "list", "nope"}, 2, {"NOT_FOUND", "nope"}},
      {{"records", "history", "todos", "missing"}, 2, {"NOT_FOUND", "missing"}},
      {{"records", "get", "todos", "t1", "--revision", "bogus"}, 2, {"INVALID_ARGUMENT", "bogus"}},
      {{"records", "delete", "todos", "t1", "--revision", "bogus"}, 2, {"INVALID_ARGUMENT"}},
      {{"records", "put", "todos", "t1", "--set", "title=b"}, 2, {"ALREADY_EXISTS", "t1"}},
      {{"records", "put", "todos", "t1", "--revision", "1-00000000000000000000000000000000",
        "--set", "title=b"},
       2,
       {"NOT_FOUND"}},
      {{"records", "put", "todos", "t2", "--set", "title=" + std::string(81, 'x')},
       2,
       {"INVALID_ARGUMENT", "title"}},
      {{"records", "put", "todos", "--set", "completed=maybe"}, 1, {"completed", "maybe"}},
      {{"records", "put", "todos", "--set", "colour=red"}, 1, {"no column \"colour\""}},
      {{"records", "list", "todos", "--where", "colour = red"}, 1, {"no column \"colour\""}},
      {{"records", "put", "todos", "--json-input", "{not json"}, 4, {"not a Record"}},
  };
  for (const Case& c : cases) {
    CliResult r = Run(c.args);
    EXPECT_EQ(r.exit, c.exit) << absl::StrJoin(c.args, " ") << "\n" << r.err;
    for (const std::string& m : c.messages) {
      EXPECT_THAT(r.err, HasSubstr(m)) << absl::StrJoin(c.args, " ");
    }
  }
  // A stale revision: ABORTED naming the current winner.
  v1::Record updated = Put({"todos", "t1", "--revision", created.revision(), "--set", "title=b"});
  CliResult r =
      Run({"records", "put", "todos", "t1", "--revision", created.revision(), "--set", "title=c"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("ABORTED"), HasSubstr(updated.revision())));
}

TEST_F(CliTest, ConflictsShowTheirValuesAndResolveEndsThem) {
  CreateTodos();
  v1::Record base = Put({"todos", "t1", "--set", "title=base", "--set", "description=d"});
  const auto [winner, loser] = MakeConflict(base);
  CliResult r = Run({"records", "conflicts", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("ROLE"), HasSubstr("title"), HasSubstr("winner    " + winner),
                           HasSubstr("conflict  " + loser), HasSubstr("t1 from a"),
                           HasSubstr("t1 from b"), HasSubstr("1 conflicting leaf;"),
                           HasSubstr("differ in: title\n"),
                           HasSubstr("records resolve todos t1 --revision " + winner)));
  r = Run({"records", "conflicts", "todos", "t1", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2));
  v1::Record head, other;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[0], &head).ok()) << lines[0];
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[1], &other).ok()) << lines[1];
  EXPECT_EQ(head.revision(), winner);
  EXPECT_THAT(head.conflicts(), ::testing::ElementsAre(loser));
  EXPECT_THAT(head.conflict_records(), SizeIs(0));
  EXPECT_EQ(other.revision(), loser);
  EXPECT_EQ(other.attributes().at("description").string(), "d");
  EXPECT_THAT(lines[1], HasSubstr(R"("title":{"string":"t1 from )"));

  // "Keep theirs, plus a change": the loser's values, completed set.
  const std::vector<std::string> resolve = {"records", "resolve", "todos",  "t1",
                                            "--revision", winner,   "--from", loser,
                                            "--set",      "completed=true", "--json"};
  r = Run(resolve);
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::Record resolved;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &resolved).ok()) << r.out;
  EXPECT_EQ(GenerationOf(resolved.revision()), 3);
  EXPECT_EQ(resolved.attributes().at("title").string(), other.attributes().at("title").string());
  EXPECT_EQ(resolved.attributes().at("description").string(), "d");
  EXPECT_TRUE(resolved.attributes().at("completed").bool_());
  r = Run({"records", "conflicts", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no conflicts: " + resolved.revision()));
  // The loser got a tombstone.
  r = Run({"records", "history", "todos", "t1", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(R"("parentRevision":")", loser, R"(")")));
  // The same resolution again is stale: ABORTED naming the new winner.
  r = Run(resolve);
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("ResolveConflict todos/t1: ABORTED"),
                           HasSubstr(resolved.revision())));
}

TEST_F(CliTest, ConflictedRecordsAreListedAndDeletedConflictsShownAndResolved) {
  CreateTodos();
  v1::Record calm = Put({"todos", "calm", "--set", "title=calm"});
  v1::Record t1 = Put({"todos", "t1", "--set", "title=base"});
  v1::Record t2 = Put({"todos", "t2", "--set", "title=base"});
  const auto [winner, loser] = MakeConflict(t1);
  const auto [edit, tombstone] = MakeDeletedConflict(t2);

  // --conflicted lists only the conflicted records; every listing says which.
  CliResult r = Run({"records", "list", "todos", "--conflicted"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("CONFLICTED"), HasSubstr("t1"), HasSubstr("t2"),
                           Not(HasSubstr("calm"))));
  r = Run({"records", "list", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("calm  " + calm.revision() + "  no "),
                           HasSubstr("t2    " + edit + "  yes ")));
  r = Run({"records", "list", "todos", "--conflicted", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(2));
  for (const std::string& line : lines) EXPECT_THAT(line, HasSubstr(R"("conflicted":true)"));

  // The deleted conflict has its own row; "no conflicts" is not said.
  r = Run({"records", "conflicts", "todos", "t2"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("winner   " + edit), HasSubstr("deleted  " + tombstone),
                           HasSubstr("1 delete lost to the winner"),
                           HasSubstr("--revision " + edit + " --delete"),
                           Not(HasSubstr("no conflicts")), Not(HasSubstr("conflicting leaf"))));
  r = Run({"records", "conflicts", "todos", "t2", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(R"("deletedConflicts":[")", tombstone, R"("])")));
  r = Run({"records", "get", "todos", "t2", "--conflicts"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("conflicted:"), HasSubstr("deleted conflict:  " + tombstone)));
  // The feed carries the flag.
  r = Run({"changes", "--table", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("\tCONFLICTED\n"), HasSubstr("t2\t" + edit + "\tno\tyes\n"),
                           HasSubstr("calm\t" + calm.revision() + "\tno\tno\n")));

  // Choosing the delete deletes t2; keeping a value resolves t1.
  r = Run(
      {"records", "resolve", "todos", "t2", "--revision", edit, "--delete", "--set", "title=x"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("--delete cannot be combined with --set"));
  r = Run({"records", "resolve", "todos", "t2", "--revision", edit, "--delete"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deleted:"));
  r = Run({"records", "get", "todos", "t2"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  r = Run({"records", "resolve", "todos", "t1", "--revision", winner});
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Run({"records", "list", "todos", "--conflicted"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(Not(HasSubstr("t1")), Not(HasSubstr("t2"))));
  r = Run({"changes", "--table", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("\tyes\n")));
}

TEST_F(CliTest, ResolveInputsAndErrors) {
  CreateTodos();
  // No values given: the winner's are kept, the conflict is dismissed.
  v1::Record t2 = Put({"todos", "t2", "--set", "title=base", "--set", "description=d"});
  const auto [w2, l2] = MakeConflict(t2);
  CliResult r = Run({"records", "resolve", "todos", "t2", "--revision", w2, "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::Record kept;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &kept).ok()) << r.out;
  DbClient db(daemon_->NewChannel());
  ASSERT_OK_AND_ASSIGN(v1::Record w2_record, db.GetRecord("todos", "t2", w2));
  EXPECT_EQ(kept.attributes().at("title").string(), w2_record.attributes().at("title").string());
  EXPECT_EQ(kept.attributes().at("description").string(), "d");
  ASSERT_OK_AND_ASSIGN(v1::Record t2_now, db.GetRecord("todos", "t2", "", true));
  EXPECT_EQ(t2_now.conflicts_size(), 0);

  // A whole Record from stdin: no mask, columns left out get default or null.
  v1::Record t3 = Put({"todos", "t3", "--set", "title=base", "--set", "description=d"});
  const auto [w3, l3] = MakeConflict(t3);
  r = Run({"records", "resolve", "todos", "t3", "--json-input", "-"},
          absl::StrCat(R"({"revision": ")", w3, R"(", "attributes": {"title": {"string": "merged"}}})"));
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("merged"), HasSubstr("description:  null")));

  v1::Record t4 = Put({"todos", "t4", "--set", "title=base"});
  const auto [w4, l4] = MakeConflict(t4);
  struct Case {
    std::vector<std::string> args;
    int exit;
    std::vector<std::string> messages;
  };
  const std::vector<Case> cases = {
      {{"records", "resolve", "todos", "t4", "--set", "title=x"}, 1, {"--revision is required"}},
      {{"records", "resolve", "nope", "t4", "--revision", w4, "--set", "title=x"},
       2,
       {"NOT_FOUND", "nope"}},
      {{"records", "conflicts", "nope", "t4"}, 2, {"NOT_FOUND", "nope"}},
      {{"records", "conflicts", "todos", "missing"}, 2, {"NOT_FOUND", "missing"}},
      {{"records", "resolve", "todos", "missing", "--revision", w4, "--set", "title=x"},
       2,
       {"NOT_FOUND", "missing"}},
      {{"records", "resolve", "todos", "t4", "--revision", "bogus", "--set", "title=x"},
       2,
       {"ResolveConflict todos/t4: INVALID_ARGUMENT", "bogus"}},
      {{"records", "resolve", "todos", "t4", "--revision", l4, "--set", "title=x"},
       2,
       {"ResolveConflict todos/t4: ABORTED", w4}},
      {{"records", "resolve", "todos", "t4", "--revision", "2-00000000000000000000000000000000",
        "--set", "title=x"},
       2,
       {"NOT_FOUND", "has no revision"}},
      {{"records", "resolve", "todos", "t4", "--revision", w4, "--set", "colour=red"},
       1,
       {"no column \"colour\""}},
      {{"records", "resolve", "todos", "t4", "--revision", w4, "--from", l4, "--replace"},
       1,
       {"--from cannot be combined"}},
      {{"records", "resolve", "todos", "t4", "--revision", w4, "--from", "bogus"},
       2,
       {"INVALID_ARGUMENT", "bogus"}},
      {{"records", "resolve", "todos", "t4", "--revision", w4, "--set",
        "title=" + std::string(81, 'x')},
       2,
       {"INVALID_ARGUMENT", "title"}},
      {{"records", "resolve", "todos", "t4", "--json-input", "{not json"}, 4, {"not a Record"}},
  };
  for (const Case& c : cases) {
    r = Run(c.args);
    EXPECT_EQ(r.exit, c.exit) << absl::StrJoin(c.args, " ") << "\n" << r.err;
    for (const std::string& m : c.messages) {
      EXPECT_THAT(r.err, HasSubstr(m)) << absl::StrJoin(c.args, " ");
    }
  }
  // Nothing was written by the refused calls.
  ASSERT_OK_AND_ASSIGN(v1::Record t4_now, db.GetRecord("todos", "t4", "", true));
  EXPECT_EQ(t4_now.revision(), w4);
  EXPECT_THAT(t4_now.conflicts(), ::testing::ElementsAre(l4));
  db.Close();
}

TEST_F(CliTest, ChangesAndFollow) {
  CreateTodos();
  Put({"todos", "t1", "--set", "title=a"});
  Put({"todos", "t2", "--set", "title=b"});
  CliResult r = Run({"changes", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(3));  // the table, t1, t2
  EXPECT_THAT(lines[0], HasSubstr("CHANGE_KIND_TABLE"));
  r = Run({"changes", "--since", "2", "--table", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("t2"), Not(HasSubstr("t1"))));
  r = Run({"changes", "--table", "nope"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("NOT_FOUND"), HasSubstr("nope")));
  r = Run({"changes", "--since", "-3"});
  EXPECT_EQ(r.exit, 1);

  // --follow prints a change committed after it started; stopped by PID.
  TempDir follow_io;
  pid_t pid = SpawnCli(
      follow_io, {"changes", "--follow", "--since", "3", "--addr", daemon_->address()}, "", {});
  ASSERT_GT(pid, 0);
  Put({"todos", "t3", "--set", "title=c"});
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::string out;
  while (absl::Now() < deadline) {
    out = ReadFile(follow_io.File("stdout"));
    if (out.find("t3") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid, SIGTERM);
  WaitExit(pid);
  EXPECT_THAT(out, HasSubstr("t3"));
}

TEST_F(CliTest, HealthAndDaemonDown) {
  CliResult r = Run({"health"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, "SERVING\n");
  // RECONDB_ADDR is used when --addr is not given.
  r = RunAt("", {"health"}, "", {"RECONDB_ADDR=" + daemon_->address()});
  EXPECT_EQ(r.exit, 0) << r.err;

  const std::string addr = daemon_->address();
  ASSERT_OK_AND_ASSIGN(int code, daemon_->Stop());
  EXPECT_EQ(code, 0);
  for (std::vector<std::string> args : {std::vector<std::string>{"health"},
                                        {"tables", "list"},
                                        {"records", "get", "todos", "x"},
                                        {"changes"},
                                        {"export", "todos"},
                                        {"status"},
                                        {"peers", "list"},
                                        {"sync", "127.0.0.1:1"}}) {
    r = RunAt(addr, args);
    EXPECT_EQ(r.exit, 3) << absl::StrJoin(args, " ") << "\n" << r.err;
    EXPECT_THAT(r.err,
                AllOf(HasSubstr("cannot reach recondbd at " + addr), HasSubstr("UNAVAILABLE")));
  }
}

TEST_F(CliTest, StatusShowsTheNodeAndItsTables) {
  CreateTodos();
  Put({"todos", "t1", "--set", "title=a"});
  Put({"todos", "t2", "--set", "title=b"});
  ASSERT_EQ(Run({"records", "delete", "todos", "t2"}).exit, 0);
  CliResult r = Run({"status"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(::testing::ContainsRegex("node id: +" + daemon_->node_id()),
                           ::testing::ContainsRegex("incarnation: +[0-9a-f]{32}\n"),
                           HasSubstr("version:"), HasSubstr("uptime:"),
                           ::testing::ContainsRegex("storage: +sqlite"),
                           HasSubstr("TABLE  RECORDS\ntodos  1\n")));
  r = Run({"status", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::NodeStatus status;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &status).ok()) << r.out;
  EXPECT_EQ(status.node_id(), daemon_->node_id());
  EXPECT_EQ(status.incarnation().size(), 32u);
  EXPECT_EQ(status.copy_of(), "");
  ASSERT_THAT(status.tables(), SizeIs(1));
  EXPECT_EQ(status.tables(0).records(), 1);
  EXPECT_GE(status.last_seq(), 3);
}

TEST_F(CliTest, PeersAddListRemove) {
  CliResult r = Run({"peers", "list"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ADDRESS"));
  EXPECT_THAT(r.out, Not(HasSubstr("127.0.0.1:1")));
  r = Run({"peers", "add", "127.0.0.1:1", "--tables", "todos,notes"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("127.0.0.1:1"), HasSubstr("notes,todos")));
  r = Run({"peers", "list", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::Peer peer;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &peer).ok()) << r.out;
  EXPECT_EQ(peer.address(), "127.0.0.1:1");
  EXPECT_THAT(peer.tables(), SizeIs(2));
  EXPECT_FALSE(peer.connected());  // Nothing listens on port 1.

  r = Run({"peers", "add", "no-port"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("address \"no-port\"")));
  r = Run({"peers", "add", "127.0.0.1:2", "--tables", "Bad"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("tables")));

  r = Run({"peers", "remove", "127.0.0.1:1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, "peer 127.0.0.1:1 removed\n");
  r = Run({"peers", "remove", "127.0.0.1:1"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("NOT_FOUND"), HasSubstr("127.0.0.1:1")));
}

TEST_F(CliTest, PeersListShowsANodeThatDialedInAndMarksItStale) {
  // other_ is the hub; daemon_ the laptop that dials it.
  TempDir hub_data;
  DaemonOptions options;
  options.data_dir = hub_data.path();
  options.extra_flags = {"--stale_peer_after=1s"};
  ASSERT_OK_AND_ASSIGN(other_, DaemonProcess::Start(options));
  CliResult r = Run({"peers", "add", other_->address()});
  ASSERT_EQ(r.exit, 0) << r.err;
  // Polled with a deadline: the link comes up when the laptop dials.
  auto list_until = [&](const std::string& wanted) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    CliResult listed;
    do {
      listed = RunAt(other_->address(), {"peers", "list"});
      EXPECT_EQ(listed.exit, 0) << listed.err;
      if (absl::StrContains(listed.out, wanted)) break;
      absl::SleepFor(absl::Milliseconds(20));
    } while (absl::Now() < deadline);
    return listed;
  };
  const std::string laptop = daemon_->node_id();
  r = list_until(laptop + "  yes");
  EXPECT_THAT(r.out, AllOf(HasSubstr("ORIGIN"), HasSubstr("LAST_SEEN"), HasSubstr("CATCH_UP"),
                           HasSubstr("accepted"), HasSubstr(laptop + "  yes")))
      << r.out;
  r = RunAt(other_->address(), {"peers", "list", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::Peer peer;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &peer).ok()) << r.out;
  EXPECT_EQ(peer.node_id(), laptop);
  EXPECT_EQ(peer.origin(), v1::PEER_ORIGIN_ACCEPTED);
  EXPECT_THAT(peer.address(), HasSubstr("127.0.0.1"));
  EXPECT_TRUE(peer.has_last_connected_time());

  // The laptop goes away: still listed, then stale once not seen for 1s.
  ASSERT_OK_AND_ASSIGN(int code, daemon_->Stop());
  EXPECT_EQ(code, 0);
  r = list_until(laptop + "  no (stale)");
  EXPECT_THAT(r.out, AllOf(HasSubstr("accepted"), HasSubstr(laptop + "  no (stale)"))) << r.out;
}

TEST_F(CliTest, SyncCopiesRecordsAndReportsCounts) {
  CreateTodos();
  Put({"todos", "t1", "--set", "title=a"});
  Put({"todos", "t2", "--set", "title=b"});
  TempDir other_data;
  DaemonOptions options;
  options.data_dir = other_data.path();
  ASSERT_OK_AND_ASSIGN(other_, DaemonProcess::Start(options));

  CliResult r = RunAt(other_->address(), {"sync", daemon_->address()});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("synced with " + daemon_->address()),
                           HasSubstr(daemon_->node_id()), HasSubstr("REVISIONS_GRAFTED"),
                           HasSubstr("received")));
  r = RunAt(other_->address(), {"records", "get", "todos", "t2"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("title:"));

  Put({"todos", "t3", "--set", "title=c"});
  r = RunAt(other_->address(), {"sync", daemon_->address(), "--json", "--tables", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  v1::SyncResponse response;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &response).ok()) << r.out;
  EXPECT_EQ(response.peer_node_id(), daemon_->node_id());
  EXPECT_EQ(response.received().revisions_grafted(), 1);
  EXPECT_EQ(response.sent().revisions_sent(), 0);
}

TEST_F(CliTest, SyncWithADaemonThatIsDown) {
  // The daemon answers, the peer does not: exit 2 with the daemon's reason.
  CliResult r = Run({"sync", "127.0.0.1:1", "--timeout", "20s"});
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("UNAVAILABLE"), HasSubstr("sync with 127.0.0.1:1")));
  r = Run({"sync", "nonsense"});
  EXPECT_EQ(r.exit, 2) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("address")));
}

// Two daemons, same first revision of t1, different second revisions: the
// export of one imported into the other gives the second a conflict.
TEST_F(CliTest, ExportImportKeepsRevisionsAndMakesConflicts) {
  CreateTodos();
  Put({"todos", "t1", "--set", "title=a"});
  v1::Record t2 =
      Put({"todos", "t2", "--set", "title=b", "--set", "deadline_at=2026-03-01T10:00:00.123456Z"});
  Put({"todos", "t2", "--revision", t2.revision(), "--set", "completed=true"});
  v1::Record t3 = Put({"todos", "t3", "--set", "title=c"});
  ASSERT_EQ(Run({"records", "delete", "todos", "t3"}).exit, 0);
  for (int i = 0; i < 5; ++i) Put({"todos", absl::StrCat("n", i), "--set", "title=n"});

  const std::string file = io_.File("todos.jsonl");
  CliResult r = Run({"export", "todos", "--output", file, "--progress-every", "3"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.err,
              AllOf(HasSubstr("export todos: 3 records\n"), HasSubstr("export todos: 6 records\n"),
                    HasSubstr("export todos: done, 8 records\n"), Not(HasSubstr("\r"))));

  TempDir other_data;
  DaemonOptions options;
  options.data_dir = other_data.path();
  ASSERT_OK_AND_ASSIGN(other_, DaemonProcess::Start(options));
  r = RunAt(other_->address(), {"import", "todos", "--input", file, "--progress-every", "4"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.err, AllOf(HasSubstr("import todos: 4 records ("), HasSubstr("%)\n"),
                           HasSubstr("import todos: done, 8 records, 10 new revisions")));

  DbClient a(daemon_->NewChannel()), b(other_->NewChannel());
  for (const char* id : {"t1", "t2", "t3", "n0", "n4"}) {
    ASSERT_OK_AND_ASSIGN(auto ha, a.GetRecordHistory("todos", id));
    ASSERT_OK_AND_ASSIGN(auto hb, b.GetRecordHistory("todos", id));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ha, hb)) << id;
  }
  v1::ListRecordsRequest list;
  list.set_table("todos");
  ASSERT_OK_AND_ASSIGN(auto la, a.ListAll(list));
  ASSERT_OK_AND_ASSIGN(auto lb, b.ListAll(list));
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(la[i], lb[i])) << la[i].id();
  }

  // Importing again adds nothing.
  r = RunAt(other_->address(), {"import", "todos", "--input", file});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("0 new revisions (10 already present)"));

  // A different edit of t1 on the other node, then the first node's export
  // again: t1 has two live leaves.
  ASSERT_OK_AND_ASSIGN(auto t1b, b.GetRecord("todos", "t1"));
  Put({"todos", "t1", "--revision", t1b.revision(), "--set", "title=from b"}, other_->address());
  ASSERT_OK_AND_ASSIGN(auto t1a, a.GetRecord("todos", "t1"));
  Put({"todos", "t1", "--revision", t1a.revision(), "--set", "title=from a"});
  ASSERT_EQ(Run({"export", "todos", "--output", file, "--progress", "none"}).exit, 0);
  ASSERT_EQ(RunAt(other_->address(), {"import", "todos", "--input", file}).exit, 0);
  r = RunAt(other_->address(), {"records", "conflicts", "todos", "t1"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("winner"), HasSubstr("conflict"), HasSubstr("from a"),
                           HasSubstr("from b")));
  r = RunAt(other_->address(), {"records", "get", "todos", "t1", "--conflicts"});
  EXPECT_THAT(r.out, HasSubstr("conflict:"));
  a.Close();
  b.Close();
}

// A winners-only export of a conflicted record carries `conflicted`, an
// output-only field: the import drops it and writes the value.
TEST_F(CliTest, WinnersOnlyExportOfAConflictedRecordImports) {
  CreateTodos();
  v1::Record t1 = Put({"todos", "t1", "--set", "title=base"});
  const auto [edit, tombstone] = MakeDeletedConflict(t1);
  CliResult r = Run({"export", "todos", "--winners-only", "--progress", "none"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(R"("conflicted":true)"));
  r = Run({"import", "copy"}, r.out);
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Run({"records", "get", "copy", "t1", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("t1 edited"), Not(HasSubstr("conflicted"))));
}

TEST_F(CliTest, ImportIntoEmptyNodeFromStdinAndWinnersOnly) {
  CreateTodos();
  v1::Record t1 = Put({"todos", "t1", "--set", "title=a"});
  Put({"todos", "t1", "--revision", t1.revision(), "--set", "title=b"});
  CliResult r = Run({"export", "todos", "--winners-only", "--progress", "none"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string winners = r.out;
  // Into another table of the same node: the records, new revisions.
  r = Run({"import", "copy"}, winners);
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.err,
              AllOf(HasSubstr("import copy: done, 1 records"), HasSubstr("1 got a new revision")));
  r = Run({"records", "get", "copy", "t1", "--json"});
  EXPECT_THAT(r.out, HasSubstr(R"("title":{"string":"b"})"));
  r = Run({"import", "copy"}, winners);
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("line 2"), HasSubstr("ALREADY_EXISTS")));
  r = Run({"import", "copy", "--skip-existing"}, winners);
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("1 existing skipped"));

  // A full export cannot be renamed (the table is part of revision ids).
  r = Run({"export", "todos", "--progress", "none"});
  ASSERT_EQ(r.exit, 0);
  CliResult bad = Run({"import", "other"}, r.out);
  EXPECT_EQ(bad.exit, 4);
  EXPECT_THAT(bad.err, HasSubstr("cannot be imported into table other"));
  bad = Run({"import", "todos"}, "{\"record\": 12}\n");
  EXPECT_EQ(bad.exit, 4);
  EXPECT_THAT(bad.err, HasSubstr("line 1"));
  // A forged history line is refused by the server: nothing is written.
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_THAT(lines, SizeIs(3));  // the table, t1's two revisions
  const size_t at = lines[1].find(R"({"string":"a"})");
  ASSERT_NE(at, std::string::npos) << lines[1];
  lines[1].replace(at, 14, R"({"string":"z"})");
  TempDir other_data;
  DaemonOptions options;
  options.data_dir = other_data.path();
  ASSERT_OK_AND_ASSIGN(other_, DaemonProcess::Start(options));
  bad = RunAt(other_->address(), {"import", "todos"}, absl::StrJoin(lines, "\n") + "\n");
  EXPECT_EQ(bad.exit, 2);
  EXPECT_THAT(bad.err, AllOf(HasSubstr("lines 2-3"), HasSubstr("INVALID_ARGUMENT"),
                             HasSubstr("does not match its content")));
  bad = RunAt(other_->address(), {"records", "get", "todos", "t1"});
  EXPECT_EQ(bad.exit, 2);
  bad = Run({"import", "todos", "--input", io_.File("missing.jsonl")});
  EXPECT_EQ(bad.exit, 4);
  EXPECT_THAT(bad.err, HasSubstr("cannot open --input"));
}

// The ImportRevisions RPC that `import` uses, called directly: revisions are
// checked by the engine and a bad batch changes nothing.
TEST_F(CliTest, ImportRevisionsRpcChecksEveryRevision) {
  CreateTodos();
  v1::Record t1 = Put({"todos", "t1", "--set", "title=a"});
  Put({"todos", "t1", "--revision", t1.revision(), "--set", "title=b"});
  DbClient a(daemon_->NewChannel());
  ASSERT_OK_AND_ASSIGN(auto history, a.GetRecordHistory("todos", "t1"));
  ASSERT_THAT(history.entries(), SizeIs(2));
  const v1::HistoryEntry second = history.entries(0), first = history.entries(1);
  a.Close();

  TempDir other_data;
  DaemonOptions options;
  options.data_dir = other_data.path();
  ASSERT_OK_AND_ASSIGN(other_, DaemonProcess::Start(options));
  CreateTodos(other_->address());
  DbClient b(other_->NewChannel());
  auto import = [&](const std::vector<v1::HistoryEntry>& entries) -> absl::StatusOr<int64_t> {
    v1::ImportRevisionsRequest request;
    for (const auto& e : entries) *request.add_revisions() = e;
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::ImportRevisionsResponse response;
    grpc::Status status = b.stub()->ImportRevisions(&ctx, request, &response);
    if (!status.ok()) return ToAbslStatus(status);
    return response.imported();
  };
  v1::HistoryEntry tampered = first;
  (*tampered.mutable_record()->mutable_attributes())["title"].set_string("forged");
  EXPECT_THAT(import({tampered}), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("does not match its content")));
  v1::HistoryEntry malformed = first;
  malformed.mutable_record()->set_revision("bogus");
  EXPECT_THAT(import({malformed}), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::HistoryEntry elsewhere = first;
  elsewhere.mutable_record()->set_table("nope");
  EXPECT_THAT(import({elsewhere}), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  // The child without its parent, even next to a good revision: nothing.
  EXPECT_THAT(import({second}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(b.GetRecord("todos", "t1"), StatusIs(absl::StatusCode::kNotFound));
  // Any order, then again: idempotent.
  ASSERT_OK_AND_ASSIGN(int64_t imported, import({second, first}));
  EXPECT_EQ(imported, 2);
  ASSERT_OK_AND_ASSIGN(imported, import({first, second}));
  EXPECT_EQ(imported, 0);
  ASSERT_OK_AND_ASSIGN(v1::Record winner, b.GetRecord("todos", "t1"));
  EXPECT_EQ(winner.revision(), second.record().revision());
  b.Close();
}

TEST_F(CliTest, TablesAddColumns) {
  CreateTodos();
  Put({"todos", "t1", "--set", "title=a"});
  CliResult r = Run({"tables", "add-columns", "todos", "--column", "priority:int,indexed,default=2",
                     "--column", "assignee:string,nullable"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("priority"), HasSubstr("assignee"), HasSubstr("title")));
  // The record written before reads the default and can be filtered on it.
  r = Run({"records", "list", "todos", "--where", "priority = 2"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("t1"));
  r = Run({"tables", "add-columns", "--json-input", "-"},
          R"({"table": "todos", "columns": [{"name": "note", "type": "COLUMN_TYPE_STRING",)"
          R"( "nullable": true}]})");
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Run({"tables", "show", "todos", "--json"});
  v1::Table table;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &table).ok()) << r.out;
  ASSERT_THAT(table.columns(), SizeIs(7));
  EXPECT_EQ(table.columns(6).name(), "note");

  r = Run({"tables", "add-columns", "todos", "--column", "due:timestamp"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("FAILED_PRECONDITION"), HasSubstr("due")));
  r = Run({"tables", "add-columns", "todos", "--column", "title:string,nullable"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("ALREADY_EXISTS"), HasSubstr("title")));
  r = Run({"tables", "add-columns", "nope", "--column", "x:int,nullable"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
  r = Run({"tables", "add-columns", "todos"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("--column"));
}

// Stubs (revisions known by id only) are exported and imported as stubs,
// and an import never sends a stub without its child, even where a batch
// of 500 revisions ends in the middle of a run of stubs.
TEST_F(CliTest, ExportImportKeepsStubs) {
  ASSERT_EQ(Run({"tables", "create", "notes", "--column", "body:string,nullable"}).exit, 0);
  auto body = [](const std::string& id, const std::string& parent, int64_t generation,
                 const std::string& text) {
    v1::HistoryEntry e;
    e.mutable_record()->set_table("notes");
    e.mutable_record()->set_id(id);
    e.set_parent_revision(parent);
    storage::Attributes attributes = {{"body", StringValue(text)}};
    (*e.mutable_record()->mutable_attributes())["body"] = StringValue(text);
    e.mutable_record()->set_revision(
        engine::ComputeRevision(generation, {"notes", id, parent, false, &attributes}));
    return e;
  };
  // "a": 300 revisions with content; "b": 250 stubs and a revision.
  v1::ImportRevisionsRequest a, b;
  std::string parent;
  for (int g = 1; g <= 300; ++g) {
    *a.add_revisions() = body("a", parent, g, absl::StrCat("a", g));
    parent = a.revisions(g - 1).record().revision();
  }
  parent.clear();
  for (int g = 1; g <= 250; ++g) {
    v1::HistoryEntry* stub = b.add_revisions();
    stub->mutable_record()->set_table("notes");
    stub->mutable_record()->set_id("b");
    stub->mutable_record()->set_revision(absl::StrFormat("%d-%032x", g, g));
    stub->set_parent_revision(parent);
    stub->set_stub(true);
    parent = stub->record().revision();
  }
  *b.add_revisions() = body("b", parent, 251, "b");
  DbClient db(daemon_->NewChannel());
  for (const auto* request : {&a, &b}) {
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    v1::ImportRevisionsResponse response;
    ASSERT_OK(ToAbslStatus(db.stub()->ImportRevisions(&ctx, *request, &response)));
  }
  ASSERT_OK_AND_ASSIGN(auto history, db.GetRecordHistory("notes", "b"));
  db.Close();

  const std::string file = io_.File("notes.jsonl");
  CliResult r = Run({"export", "notes", "--output", file, "--progress", "none"});
  ASSERT_EQ(r.exit, 0) << r.err;
  const std::string exported = ReadFile(file);
  EXPECT_EQ(std::count(exported.begin(), exported.end(), '\n'), 1 + 300 + 251);
  size_t stubs = 0;
  for (size_t at = exported.find("\"stub\":true"); at != std::string::npos;
       at = exported.find("\"stub\":true", at + 1)) {
    ++stubs;
  }
  EXPECT_EQ(stubs, 250u);

  TempDir other_data;
  DaemonOptions options;
  options.data_dir = other_data.path();
  ASSERT_OK_AND_ASSIGN(other_, DaemonProcess::Start(options));
  r = RunAt(other_->address(), {"import", "notes", "--input", file});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("551 new revisions"));
  DbClient other(other_->NewChannel());
  ASSERT_OK_AND_ASSIGN(auto imported, other.GetRecordHistory("notes", "b"));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(history, imported));
  EXPECT_TRUE(imported.entries(1).stub());
  other.Close();
  r = RunAt(other_->address(), {"records", "history", "notes", "b"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("known by id only"));
}

// `recondb auth ...` and --token / RECONDB_TOKEN against a daemon with
// --auth=on (issue 13, point 3).
class AuthCliTest : public CliTest {
 protected:
  void SetUp() override {
    DaemonOptions options;
    options.data_dir = data_.path();
    options.extra_flags = {"--auth=on"};
    ASSERT_OK_AND_ASSIGN(daemon_, DaemonProcess::Start(options));
    std::ifstream in(data_.path() / "admin.token");
    in >> admin_token_;
    ASSERT_FALSE(admin_token_.empty());
  }

  CliResult Admin(std::vector<std::string> args, const std::string& stdin_text = "") {
    return Run(std::move(args), stdin_text, {"RECONDB_TOKEN=" + admin_token_});
  }

  std::string admin_token_;
};

TEST_F(AuthCliTest, WithoutATokenCallsAreRefused) {
  CliResult r = Run({"tables", "list"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED: missing credentials"));
  r = Run({"tables", "list", "--token=rdb_bogus"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(r.err, Not(HasSubstr("rdb_bogus")));
}

TEST_F(AuthCliTest, PrincipalTokenGrantRevokeRoundTrip) {
  CliResult r = Admin({"auth", "whoami"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("admin"), HasSubstr("grants:")));
  ASSERT_EQ(Admin({"tables", "create", "todos", "--column", "title:string"}).exit, 0);

  r = Admin({"auth", "principals", "create", "alice", "--certificate-name", "alice.example"});
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Admin({"auth", "grant", "alice", "read", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("read on todos"));
  r = Admin({"auth", "token", "issue", "alice"});
  ASSERT_EQ(r.exit, 0) << r.err;
  const std::string token(absl::StripAsciiWhitespace(r.out));
  ASSERT_EQ(token.size(), 64u) << r.out;
  EXPECT_THAT(r.err, HasSubstr("shown only this once"));
  const std::string token_id = token.substr(4, 16);

  // --token and RECONDB_TOKEN both work; --token wins.
  r = Run({"tables", "list", "--token", token});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("todos"));
  r = Run({"auth", "whoami"}, "", {"RECONDB_TOKEN=" + token});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("alice"));
  r = Run({"records", "put", "todos", "--set", "title=x"}, "", {"RECONDB_TOKEN=" + token});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED: principal alice may not write table todos"));
  r = Run({"auth", "principals", "list"}, "", {"RECONDB_TOKEN=" + token});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("PERMISSION_DENIED"));

  r = Admin({"auth", "principals", "list"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, AllOf(HasSubstr("alice"), HasSubstr(token_id), HasSubstr("alice.example"),
                           Not(HasSubstr(token))));

  r = Admin({"auth", "revoke", "alice", "read", "todos"});
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Run({"tables", "list", "--token", token});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("todos")));

  r = Admin({"auth", "certificates", "set", "alice"});
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, Not(HasSubstr("alice.example")));

  r = Admin({"auth", "token", "revoke", "alice", token_id});
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Run({"tables", "list", "--token", token});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("UNAUTHENTICATED"));

  r = Admin({"auth", "principals", "delete", "alice"});
  ASSERT_EQ(r.exit, 0) << r.err;
  r = Admin({"auth", "principals", "delete", "alice"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, HasSubstr("NOT_FOUND"));
}

TEST_F(AuthCliTest, UsageErrors) {
  CliResult r = Admin({"auth", "grant", "alice", "fly", "todos"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown permission \"fly\""));
  r = Admin({"auth", "grant", "alice", "read"});
  EXPECT_EQ(r.exit, 1);
  EXPECT_THAT(r.err, HasSubstr("TABLE_PATTERN"));
  r = Admin({"auth", "principals", "create", "Bad Name"});
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("INVALID_ARGUMENT"), HasSubstr("name")));
}

// hash-token and new-token need no daemon.
TEST_F(AuthCliTest, OfflineTokenHelpers) {
  CliResult r = RunAt("", {"auth", "new-token", "--json"});
  ASSERT_EQ(r.exit, 0) << r.err;
  const std::vector<std::string> parts = absl::StrSplit(r.out, '"');
  ASSERT_GE(parts.size(), 12u) << r.out;
  const std::string token = parts[3];
  const std::string id = parts[7];
  const std::string sha256 = parts[11];
  EXPECT_EQ(token.substr(4, 16), id);
  r = RunAt("", {"auth", "hash-token"}, token + "\n");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.out, sha256 + "\n");
  r = RunAt("", {"auth", "hash-token"}, "not-a-token\n");
  EXPECT_EQ(r.exit, 4);
  EXPECT_THAT(r.err, HasSubstr("malformed token"));
  EXPECT_THAT(r.err, Not(HasSubstr("not-a-token")));
}

}  // namespace
}  // namespace recondb::testing
