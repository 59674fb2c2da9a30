// Input helpers shared by the commands: --json-input text, and the table
// schema that types --set and --where values.
#ifndef RECONDB_TOOLS_CLI_INPUT_H_
#define RECONDB_TOOLS_CLI_INPUT_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "recondb/v1/types.pb.h"
#include "tools/cli/cli.h"

namespace recondb::cli {

// The JSON text of a --json-input argument: `arg` itself, or all of stdin
// when `arg` is "-". INVALID_ARGUMENT if stdin cannot be read.
absl::StatusOr<std::string> ReadJsonInput(Context& ctx, std::string_view arg);

// GetTable(name). On failure the error has been printed and `exit` holds the
// exit code (kExitRefused for NOT_FOUND, ...); on success `exit` is kExitOk.
struct FetchedTable {
  v1::Table table;
  int exit = kExitOk;
};
FetchedTable FetchTable(Context& ctx, std::string_view name);

}  // namespace recondb::cli

#endif  // RECONDB_TOOLS_CLI_INPUT_H_
