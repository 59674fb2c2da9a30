// Finding the command in a command line whose global options may come
// before, between and after the command words (see cli.h).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/cli/cli.h"

namespace recondb::cli {
namespace {

// The words of a command's path: "records put" -> {"records", "put"}.
std::vector<std::string> PathWords(const Command& c) { return absl::StrSplit(c.path, ' '); }

// Whether some command's path starts with `words`.
bool IsPathPrefix(const std::vector<Command>& commands, const std::vector<std::string>& words) {
  for (const Command& c : commands) {
    const std::vector<std::string> path = PathWords(c);
    if (path.size() >= words.size() && std::equal(words.begin(), words.end(), path.begin())) {
      return true;
    }
  }
  return false;
}

const Command* ExactCommand(const std::vector<Command>& commands,
                            const std::vector<std::string>& words) {
  for (const Command& c : commands) {
    if (PathWords(c) == words) return &c;
  }
  return nullptr;
}

// The spec named by the option token `token` ("--name" or "--name=value")
// among `specs`, or null.
const OptionSpec* SpecOf(std::string_view token, const std::vector<OptionSpec>& specs) {
  if (token == "-h") token = "--help";
  if (token.substr(0, 2) != "--") return nullptr;
  std::string_view name = token.substr(2);
  name = name.substr(0, name.find('='));
  for (const OptionSpec& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// The error for `token`, an option that is not global, met before the
// command words were complete.
absl::Status OptionBeforeCommand(std::string_view token, const std::vector<Command>& commands,
                                 const std::vector<OptionSpec>& globals) {
  std::string name(token.substr(0, token.find('=')));
  for (const Command& c : commands) {
    if (SpecOf(token, c.options) != nullptr) {
      std::string allowed;
      for (const OptionSpec& g : globals)
        absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", "--", g.name);
      return absl::InvalidArgumentError(absl::StrCat("option ", name, " must follow the command (",
                                                     "before it only ", allowed, ")"));
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown option ", name));
}

}  // namespace

absl::StatusOr<CommandLine> SplitCommandLine(const std::vector<std::string>& tokens,
                                             const std::vector<Command>& commands,
                                             const std::vector<OptionSpec>& globals) {
  CommandLine line;
  size_t i = 0;
  for (; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const bool is_option = token.size() > 1 && token[0] == '-';
    if (is_option && token != "--") {
      const OptionSpec* spec = SpecOf(token, globals);
      if (spec == nullptr) return OptionBeforeCommand(token, commands, globals);
      line.rest.push_back(token);
      // A global option's value is the next token unless given with '='.
      if (!spec->value_name.empty() && token.find('=') == std::string::npos) {
        if (i + 1 >= tokens.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("option --", spec->name, " needs a value (", spec->value_name, ")"));
        }
        line.rest.push_back(tokens[++i]);
      }
      continue;
    }
    if (is_option) break;  // "--" before the command: nothing is a command word.
    std::vector<std::string> longer = line.words;
    longer.push_back(token);
    if (!IsPathPrefix(commands, longer)) break;
    line.words = std::move(longer);
    // No command's path is a prefix of another's, so a complete path ends
    // the command words: what follows are its arguments.
    if ((line.command = ExactCommand(commands, line.words)) != nullptr) {
      ++i;
      break;
    }
  }
  if (line.command == nullptr && i < tokens.size()) line.unmatched = tokens[i];
  line.rest.insert(line.rest.end(), tokens.begin() + i, tokens.end());
  return line;
}

}  // namespace recondb::cli
