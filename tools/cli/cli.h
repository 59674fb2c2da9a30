// The shared vocabulary of the `recondb` admin CLI: exit codes, option specs,
// parsed arguments, the per-invocation context and the command table. Each
// *_commands.cc file contributes a group of commands; main.cc dispatches.
// The user's documentation is docs/cli.md.
#ifndef RECONDB_TOOLS_CLI_CLI_H_
#define RECONDB_TOOLS_CLI_CLI_H_

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "recondb/v1/admin.grpc.pb.h"
#include "recondb/v1/database.grpc.pb.h"

namespace recondb::cli {

// Exit codes, documented in docs/cli.md and `recondb --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,        // bad command line (unknown option, bad value, ...)
  kExitRefused = 2,      // the server answered with an error status
  kExitUnreachable = 3,  // UNAVAILABLE or DEADLINE_EXCEEDED: no answer in time
  kExitInput = 4,        // a local file or input line could not be read/parsed
};

struct OptionSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // empty: a switch without value
  std::string help;
};

// Options and positional arguments of one invocation.
class Args {
 public:
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(std::string_view name) const;
  // The last value given for `name`, or `fallback`.
  std::string Get(std::string_view name, std::string_view fallback = "") const;
  // Every value given for `name`, in order (repeatable options).
  std::vector<std::string> GetAll(std::string_view name) const;

 private:
  friend absl::StatusOr<Args> ParseArgs(const std::vector<std::string>&,
                                        const std::vector<OptionSpec>&);
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string, std::less<>> options_;
};

// Parses `tokens` (after the command words) against `specs`: `--name=value`,
// `--name value`, switches `--name`, `-h`, `--` ends options, a lone `-` is
// positional. INVALID_ARGUMENT names an unknown option or a missing value.
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& tokens,
                               const std::vector<OptionSpec>& specs);

// Everything a command needs. The channel is made lazily by Db()/Channel(),
// so usage errors never need a connection.
struct Context {
  Args args;
  std::string addr;
  // --token or $RECONDB_TOKEN: sent as "authorization: Bearer <token>" on
  // every call. Empty: none.
  std::string token;
  absl::Duration timeout = absl::Seconds(10);
  bool json = false;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // The command's path, e.g. "records put", for messages.
  std::string command;

  std::shared_ptr<grpc::Channel> Channel();
  v1::Database::Stub& Db();
  v1::Admin::Stub& Admin();

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Database::Stub> db_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

struct Command {
  std::string path;     // "tables list"
  std::string args;     // "TABLE [ID]"
  std::string summary;  // one line
  std::string details;  // paragraphs for --help
  std::vector<OptionSpec> options;
  int min_positional = 0;
  int max_positional = 0;  // -1: unbounded
  std::function<int(Context&)> run;
};

// A command line split into its command and the tokens for ParseArgs.
struct CommandLine {
  // The command named, or null: then `words` are the command words that
  // began a path (e.g. {"records"}, or none) and `unmatched` is the token
  // that did not continue it ("" at the end of the line).
  const Command* command = nullptr;
  std::vector<std::string> words;
  std::string unmatched;
  // The global options met before and between the command words, in their
  // order, then every token after the command words: the input of ParseArgs.
  std::vector<std::string> rest;
};

// Finds the command named by the words of `tokens` (argv without argv[0]).
// Options in `globals` may come before, between and after the command
// words, as `--name value`, `--name=value` or switches (`-h` is `--help`);
// the command's own options come after its words. INVALID_ARGUMENT names
// any other option met before the command is complete, or a global option
// that lacks its value. REQUIRES: no command's path is a prefix of another's.
absl::StatusOr<CommandLine> SplitCommandLine(const std::vector<std::string>& tokens,
                                             const std::vector<Command>& commands,
                                             const std::vector<OptionSpec>& globals);

std::vector<Command> TableCommands();
std::vector<Command> RecordCommands();
std::vector<Command> FeedCommands();      // changes, health
std::vector<Command> TransferCommands();  // export, import
std::vector<Command> AdminCommands();     // status, peers add|list|remove, sync
std::vector<Command> BackupCommands();    // backup, restore
std::vector<Command> AuthCommands();      // auth principals|token|grant|revoke|whoami|...

// Prints "recondb: <message>" and the hint to --help; returns kExitUsage.
int UsageError(Context& ctx, std::string_view message);
// Prints "recondb: <what>: <CODE>: <message>" (or the unreachable form) and
// returns kExitRefused or kExitUnreachable according to the code.
int RpcError(Context& ctx, const grpc::Status& status, std::string_view what);
// The canonical upper-case name of a gRPC code ("NOT_FOUND").
std::string CodeName(grpc::StatusCode code);
// Prints "recondb: <message>" and returns kExitInput.
int InputError(Context& ctx, std::string_view message);

// A ClientContext-ready deadline of ctx.timeout from now.
std::chrono::system_clock::time_point Deadline(const Context& ctx);

}  // namespace recondb::cli

#endif  // RECONDB_TOOLS_CLI_CLI_H_
