#include "storage/sqlite_inspect.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/internal/sqlite_schema.h"
#include "storage/internal/sqlite_status.h"

namespace recondb::storage {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// "file:" URI of `path` with SQLite's immutable flag; the characters that
// mean something in a URI are escaped.
std::string ImmutableUri(const std::string& path) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      absl::StrAppend(&uri, "%", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      uri.push_back(c);
    }
  }
  return uri + "?immutable=1";
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};

// Every row of `sql` as text. A failure is FAILED_PRECONDITION: a file
// whose schema cannot be read is not a store this build can restore.
absl::StatusOr<Rows> Query(sqlite3* db, const std::string& path, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  Rows rows;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<std::string>& row = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char* text = sqlite3_column_text(stmt, i);
        row.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
      }
    }
  }
  sqlite3_finalize(stmt);
  if (rc == SQLITE_DONE) return rows;
  const absl::Status error = internal::SqliteError(rc, db, sql);
  return absl::FailedPreconditionError(
      absl::StrCat(path, " is not a readable recondb store: ", error.message()));
}

}  // namespace

absl::StatusOr<SqliteStoreFile> InspectSqliteStore(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat("no such file: ", path));
    return absl::UnavailableError(absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
  }
  if (!S_ISREG(st.st_mode))
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a file"));
  struct stat wal;
  if (::stat((path + "-wal").c_str(), &wal) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " has a write-ahead log beside it (", path,
        "-wal): it is open, or was not closed cleanly. Stop the daemon that has it open; a "
        "backup made by `recondb backup` never has one"));
  }
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(ImmutableUri(path).c_str(), &raw,
                                 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  if (rc != SQLITE_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", path, ": ", internal::SqliteError(rc, raw, "open").message()));
  }
  ASSIGN_OR_RETURN(const Rows check, Query(db.get(), path, "PRAGMA quick_check"));
  if (check.size() != 1 || check[0].size() != 1 || check[0][0] != "ok") {
    std::vector<std::string> problems;
    for (size_t i = 0; i < check.size() && i < 5; ++i)
      problems.push_back(absl::StrJoin(check[i], " "));
    return absl::FailedPreconditionError(absl::StrCat(
        path, " fails SQLite's check (PRAGMA quick_check): ", absl::StrJoin(problems, "; ")));
  }
  ASSIGN_OR_RETURN(const Rows tables,
                   Query(db.get(), path,
                         "SELECT count(*) FROM \"sqlite_schema\" WHERE \"type\" = 'table' AND "
                         "\"name\" = '_meta'"));
  if (tables.empty() || tables[0].empty() || tables[0][0] != "1") {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a SQLite database but not a recondb store (no _meta table)"));
  }
  ASSIGN_OR_RETURN(const Rows meta,
                   Query(db.get(), path, "SELECT \"key\", \"value\" FROM \"_meta\""));
  SqliteStoreFile file;
  file.bytes = static_cast<int64_t>(st.st_size);
  for (const auto& row : meta) {
    if (row.size() == 2) file.meta[row[0]] = row[1];
  }
  auto version = file.meta.find(internal::kFormatVersionKey);
  if (version == file.meta.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a recondb store (its _meta has no format_version)"));
  }
  if (!absl::SimpleAtoi(version->second, &file.format_version) || file.format_version < 1) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has an unreadable format version \"", version->second, "\""));
  }
  if (file.format_version > internal::kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has storage format version ", file.format_version,
                     "; this build reads up to ", internal::kFormatVersion, ": upgrade recondb"));
  }
  return file;
}

}  // namespace recondb::storage
