// recondb: the admin CLI of recondbd. Finds the command named by the words
// of the command line (SplitCommandLine: global options may stand before,
// between and after them), parses its options and runs it. docs/cli.md is
// the user's guide.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "tools/cli/cli.h"

namespace recondb::cli {
namespace {

constexpr char kDefaultAddr[] = "127.0.0.1:7470";

const std::vector<OptionSpec>& GlobalOptions() {
  static const std::vector<OptionSpec> kOptions = {
      {"addr", "HOST:PORT", "the daemon (default $RECONDB_ADDR, else 127.0.0.1:7470)"},
      {"token", "TOKEN",
       "bearer token to send (default $RECONDB_TOKEN, which other users cannot see)"},
      {"timeout", "DURATION", "deadline of each call, e.g. 10s, 500ms, 2m (default 10s)"},
      {"json", "", "print proto3 JSON, one object per line"},
      {"help", "", "show help"}};
  return kOptions;
}

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {TableCommands(), RecordCommands(), FeedCommands(), TransferCommands(),
                     AdminCommands(), BackupCommands(), AuthCommands()}) {
    for (Command& c : group) all.push_back(std::move(c));
  }
  return all;
}

void PrintOptions(std::ostream& out, const std::vector<OptionSpec>& options) {
  for (const OptionSpec& o : options) {
    std::string flag = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
    if (flag.size() < 26) flag.resize(26, ' ');
    out << flag << " " << o.help << "\n";
  }
}

void PrintMainHelp(std::ostream& out, const std::vector<Command>& commands) {
  out << "recondb: the admin CLI of recondbd (docs/cli.md)\n\n"
         "Usage: recondb [OPTIONS] COMMAND [ARGS] [OPTIONS]\n\nCommands:\n";
  for (const Command& c : commands) {
    std::string head = "  " + c.path + (c.args.empty() ? "" : " " + c.args);
    if (head.size() < 30) head.resize(30, ' ');
    out << head << " " << c.summary << "\n";
  }
  out << "\nOptions of every command:\n";
  PrintOptions(out, GlobalOptions());
  out << "\nExit codes: 0 ok; 1 usage error; 2 the server refused (its gRPC code and message\n"
         "are printed); 3 daemon unreachable or no answer in time (UNAVAILABLE,\n"
         "DEADLINE_EXCEEDED); 4 a local input or output error (file, JSON line).\n\n"
         "Run 'recondb COMMAND --help' for a command's options.\n";
}

void PrintCommandHelp(std::ostream& out, const Command& c) {
  out << "Usage: recondb " << c.path << (c.args.empty() ? "" : " " + c.args) << " [OPTIONS]\n\n"
      << c.summary << "\n";
  if (!c.details.empty()) out << "\n" << c.details << "\n";
  if (!c.options.empty()) {
    out << "\nOptions:\n";
    PrintOptions(out, c.options);
  }
  out << "\nOptions of every command:\n";
  PrintOptions(out, GlobalOptions());
}

// Fills ctx's global settings from its parsed args and the environment.
int Configure(Context& ctx) {
  const char* env = std::getenv("RECONDB_ADDR");
  ctx.addr = ctx.args.Get("addr", env != nullptr && *env != '\0' ? env : kDefaultAddr);
  ctx.json = ctx.args.Has("json");
  const char* token = std::getenv("RECONDB_TOKEN");
  ctx.token = ctx.args.Get("token", token != nullptr ? token : "");
  if (ctx.args.Has("timeout")) {
    const std::string text = ctx.args.Get("timeout");
    double seconds;
    if (absl::SimpleAtod(text, &seconds)) {
      ctx.timeout = absl::Seconds(seconds);
    } else if (!absl::ParseDuration(text, &ctx.timeout)) {
      return UsageError(ctx, "bad --timeout \"" + text + "\" (e.g. 10s, 500ms)");
    }
    if (ctx.timeout <= absl::ZeroDuration()) return UsageError(ctx, "--timeout must be positive");
  }
  return kExitOk;
}

// The usage error (or help) for a command line that names no command.
int NoCommand(Context& ctx, const std::vector<Command>& commands, const CommandLine& line,
              bool empty) {
  const bool help = std::find(line.rest.begin(), line.rest.end(), "--help") != line.rest.end() ||
                    std::find(line.rest.begin(), line.rest.end(), "-h") != line.rest.end();
  if (empty || help || (line.words.empty() && line.unmatched == "help")) {
    PrintMainHelp(*ctx.out, commands);
    return empty ? kExitUsage : kExitOk;
  }
  std::string words = absl::StrJoin(line.words, " ");
  if (!line.words.empty() && (line.unmatched.empty() || line.unmatched[0] == '-')) {
    std::string group;  // "records" alone: name its subcommands
    for (const Command& c : commands) {
      if (c.path.rfind(words + " ", 0) == 0) {
        absl::StrAppend(&group, group.empty() ? "" : "|", c.path.substr(words.size() + 1));
      }
    }
    return UsageError(ctx, "missing subcommand: recondb " + words + " " + group);
  }
  if (line.unmatched.empty()) return UsageError(ctx, "missing command");
  absl::StrAppend(&words, words.empty() ? "" : " ", line.unmatched);
  return UsageError(ctx, "unknown command \"" + words + "\"");
}

int Main(int argc, char** argv) {
  const std::vector<std::string> tokens(argv + 1, argv + argc);
  const std::vector<Command> commands = AllCommands();
  Context ctx;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  absl::StatusOr<CommandLine> line = SplitCommandLine(tokens, commands, GlobalOptions());
  if (!line.ok()) return UsageError(ctx, std::string(line.status().message()));
  const Command* command = line->command;
  if (command == nullptr) return NoCommand(ctx, commands, *line, tokens.empty());
  ctx.command = command->path;
  std::vector<OptionSpec> specs = command->options;
  specs.insert(specs.end(), GlobalOptions().begin(), GlobalOptions().end());
  auto args = ParseArgs(line->rest, specs);
  if (!args.ok()) return UsageError(ctx, std::string(args.status().message()));
  ctx.args = *std::move(args);
  if (ctx.args.Has("help")) {
    PrintCommandHelp(std::cout, *command);
    return kExitOk;
  }
  const int n = static_cast<int>(ctx.args.positional().size());
  if (n < command->min_positional ||
      (command->max_positional >= 0 && n > command->max_positional)) {
    return UsageError(ctx,
                      "expected arguments: " + (command->args.empty() ? "none" : command->args));
  }
  if (int exit = Configure(ctx); exit != kExitOk) return exit;
  const int exit = command->run(ctx);
  std::cout.flush();
  return exit;
}

}  // namespace
}  // namespace recondb::cli

int main(int argc, char** argv) { return recondb::cli::Main(argc, argv); }
