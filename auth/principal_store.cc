#include "auth/principal_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "auth/principal.h"
#include "auth/token.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "google/protobuf/util/json_util.h"

namespace recondb::auth {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path, int error) {
  return absl::UnavailableError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(error)));
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("cannot write", path, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status ValidatePrincipal(const internal::StoredPrincipal& p, std::string_view where) {
  RETURN_IF_ERROR(ValidatePrincipalName(p.name(), absl::StrCat(Sv(where), "name")));
  const std::string field = absl::StrCat(Sv(where), "principal ", p.name(), ": ");
  for (const v1::TableGrant& grant : p.grants()) {
    RETURN_IF_ERROR(
        ValidateTablePattern(grant.table_pattern(), absl::StrCat(field, "table_pattern")));
    for (int permission : grant.permissions()) {
      RETURN_IF_ERROR(
          FromProto(static_cast<v1::Permission>(permission), absl::StrCat(field, "permissions"))
              .status());
    }
  }
  for (const std::string& name : p.certificate_names()) {
    RETURN_IF_ERROR(ValidateCertificateName(name, absl::StrCat(field, "certificate_names")));
  }
  for (const internal::StoredToken& token : p.tokens()) {
    if (!IsLowerHex(token.id(), kTokenIdLength)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "tokens.id \"", token.id(), "\" must be 16 lowercase hex digits"));
    }
    if (!IsLowerHex(token.sha256(), 64)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "tokens.sha256 of token ", token.id(),
                       " must be 64 lowercase hex digits (recondb auth hash-token prints it)"));
    }
  }
  return absl::OkStatus();
}

// Names, token ids and certificate names must each be unique across both
// stores; `seen_*` collect them.
struct Seen {
  std::set<std::string> names, token_ids, certificate_names;
};

absl::Status CheckUnique(const internal::AuthStore& store, std::string_view source, Seen& seen,
                         absl::StatusCode code) {
  for (const internal::StoredPrincipal& p : store.principals()) {
    if (!seen.names.insert(p.name()).second) {
      return absl::Status(code,
                          absl::StrCat(Sv(source), ": principal ", p.name(), " is defined twice"));
    }
    for (const internal::StoredToken& token : p.tokens()) {
      if (!seen.token_ids.insert(token.id()).second) {
        return absl::Status(code, absl::StrCat(Sv(source), ": principal ", p.name(), ": token id ",
                                               token.id(), " is used twice"));
      }
    }
    for (const std::string& name : p.certificate_names()) {
      if (!seen.certificate_names.insert(name).second) {
        return absl::Status(
            code, absl::StrCat(Sv(source), ": principal ", p.name(), ": certificate name \"", name,
                               "\" maps to more than one principal"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<internal::AuthStore> ReadStoreFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return ErrnoError("cannot read", path, errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return ErrnoError("cannot read", path, errno);
  internal::AuthStore store;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &store, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a principal file: ", status.ToString()));
  }
  return store;
}

absl::Status WriteStoreFile(const std::string& path, const internal::AuthStore& store) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  const auto printed = google::protobuf::util::MessageToJsonString(store, &json, options);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("cannot encode ", path, ": ", printed.ToString()));
  }
  const std::string temp = absl::StrCat(path, ".tmp");
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", temp, errno);
  absl::Status status = WriteAll(fd, json, temp);
  // A temp file left by an older umask or a crash may have other bits.
  if (status.ok() && ::fchmod(fd, 0600) != 0) status = ErrnoError("cannot chmod", temp, errno);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("cannot sync", temp, errno);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("cannot close", temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError(absl::StrCat("cannot rename ", temp, " to"), path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  const std::string dir = DirectoryOf(path);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoError("cannot open directory", dir, errno);
  const int synced = ::fsync(dir_fd);
  const int error = errno;
  ::close(dir_fd);
  if (synced != 0) return ErrnoError("cannot sync directory", dir, error);
  return absl::OkStatus();
}

absl::Status ValidateStore(const internal::AuthStore& store, std::string_view source) {
  const std::string where = absl::StrCat(Sv(source), ": ");
  for (const internal::StoredPrincipal& p : store.principals()) {
    RETURN_IF_ERROR(ValidatePrincipal(p, where));
  }
  for (const internal::NodeBinding& binding : store.node_bindings()) {
    if (binding.node_id().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, "node_bindings: empty node_id"));
    }
  }
  Seen seen;
  return CheckUnique(store, source, seen, absl::StatusCode::kInvalidArgument);
}

absl::StatusOr<std::unique_ptr<PrincipalStore>> PrincipalStore::Open(std::string path,
                                                                     std::string auth_file) {
  std::unique_ptr<PrincipalStore> store(new PrincipalStore(std::move(path), std::move(auth_file)));
  if (!store->auth_file_.empty()) {
    absl::StatusOr<internal::AuthStore> file = ReadStoreFile(store->auth_file_);
    if (!file.ok()) {
      return absl::Status(file.status().code(),
                          absl::StrCat("--auth_file: ", file.status().message()));
    }
    RETURN_IF_ERROR(ValidateStore(*file, store->auth_file_));
    if (file->node_bindings_size() > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(store->auth_file_,
                       ": node_bindings are the node's own (auth.json), not an --auth_file's"));
    }
    store->file_ = *std::move(file);
  }
  if (!store->path_.empty()) {
    absl::StatusOr<internal::AuthStore> own = ReadStoreFile(store->path_);
    if (own.ok()) {
      RETURN_IF_ERROR(ValidateStore(*own, store->path_));
      RETURN_IF_ERROR(store->CheckDisjoint(*own));
      store->own_ = *std::move(own);
    } else if (!absl::IsNotFound(own.status())) {
      return own.status();
    }
  }
  return store;
}

absl::Status PrincipalStore::CheckDisjoint(const internal::AuthStore& own) const {
  Seen seen;
  RETURN_IF_ERROR(CheckUnique(file_, auth_file_, seen, absl::StatusCode::kFailedPrecondition));
  return CheckUnique(own, path_.empty() ? "the principal store" : path_, seen,
                     absl::StatusCode::kFailedPrecondition);
}

absl::Status PrincipalStore::Mutate(
    const std::function<absl::Status(internal::AuthStore&)>& change) {
  internal::AuthStore next = own_;
  RETURN_IF_ERROR(change(next));
  RETURN_IF_ERROR(ValidateStore(next, path_.empty() ? "the principal store" : path_));
  RETURN_IF_ERROR(CheckDisjoint(next));
  if (!path_.empty()) RETURN_IF_ERROR(WriteStoreFile(path_, next));
  own_ = std::move(next);
  return absl::OkStatus();
}

}  // namespace recondb::auth
