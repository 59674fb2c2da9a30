// Calls to a real recondbd with --auth=on, for integration tests: a client
// context carrying a bearer token, the bootstrap admin's token file, and a
// principal made with one grant and a token.
#ifndef RECONDB_TESTS_SUPPORT_AUTH_CALLS_H_
#define RECONDB_TESTS_SUPPORT_AUTH_CALLS_H_

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/client_context.h"
#include "recondb/v1/admin.grpc.pb.h"

namespace recondb::testing {

// A context with a 20 s deadline and, unless `token` is empty,
// "authorization: Bearer <token>".
std::unique_ptr<grpc::ClientContext> CallAs(const std::string& token);

// The token in a file such as <data_dir>/admin.token (surrounding white
// space dropped); empty if it cannot be read.
std::string ReadTokenFile(const std::filesystem::path& path);

// Creates principal `name` with `permissions` on `pattern` (no grant when
// empty) and issues it a token, all as `admin_token`; returns the token,
// or "" after a gtest failure naming the call that failed.
std::string MakePrincipal(v1::Admin::Stub& admin, const std::string& admin_token,
                          const std::string& name, const std::vector<v1::Permission>& permissions,
                          const std::string& pattern = "todos");

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_AUTH_CALLS_H_
