// The option parser of every subcommand (see cli.h).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/strings.h"
#include "tools/cli/cli.h"

namespace recondb::cli {

bool Args::Has(std::string_view name) const { return options_.find(name) != options_.end(); }

std::string Args::Get(std::string_view name, std::string_view fallback) const {
  auto [begin, end] = options_.equal_range(name);
  if (begin == end) return std::string(fallback);
  return std::prev(end)->second;
}

std::vector<std::string> Args::GetAll(std::string_view name) const {
  std::vector<std::string> values;
  auto [begin, end] = options_.equal_range(name);
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& tokens,
                               const std::vector<OptionSpec>& specs) {
  Args args;
  bool options_done = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    if (options_done || token == "-" || token.empty() || token[0] != '-') {
      args.positional_.push_back(token);
      continue;
    }
    if (token == "--") {
      options_done = true;
      continue;
    }
    if (token == "-h") {
      args.options_.emplace("help", "");
      continue;
    }
    if (token.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", token));
    }
    std::string name = token.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown option --", name));
    if (spec->value_name.empty()) {
      if (has_value) {
        return absl::InvalidArgumentError(absl::StrCat("option --", name, " takes no value"));
      }
    } else if (!has_value) {
      if (i + 1 >= tokens.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", name, " needs a value (", spec->value_name, ")"));
      }
      value = tokens[++i];
    }
    args.options_.emplace(name, value);
  }
  return args;
}

}  // namespace recondb::cli
