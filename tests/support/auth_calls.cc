#include "tests/support/auth_calls.h"

#include <fstream>

#include "gtest/gtest.h"

namespace recondb::testing {

std::unique_ptr<grpc::ClientContext> CallAs(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  return context;
}

std::string ReadTokenFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string token;
  in >> token;
  return token;
}

std::string MakePrincipal(v1::Admin::Stub& admin, const std::string& admin_token,
                          const std::string& name, const std::vector<v1::Permission>& permissions,
                          const std::string& pattern) {
  v1::CreatePrincipalRequest create;
  create.set_name(name);
  v1::PrincipalInfo info;
  grpc::Status status = admin.CreatePrincipal(CallAs(admin_token).get(), create, &info);
  if (!status.ok()) {
    ADD_FAILURE() << "CreatePrincipal " << name << ": " << status.error_message();
    return "";
  }
  if (!permissions.empty()) {
    v1::GrantRequest grant;
    grant.set_principal(name);
    grant.set_table_pattern(pattern);
    for (v1::Permission p : permissions) grant.add_permissions(p);
    status = admin.Grant(CallAs(admin_token).get(), grant, &info);
    if (!status.ok()) {
      ADD_FAILURE() << "Grant " << name << ": " << status.error_message();
      return "";
    }
  }
  v1::IssueTokenRequest issue;
  issue.set_principal(name);
  v1::IssueTokenResponse token;
  status = admin.IssueToken(CallAs(admin_token).get(), issue, &token);
  if (!status.ok()) {
    ADD_FAILURE() << "IssueToken " << name << ": " << status.error_message();
    return "";
  }
  return token.token();
}

}  // namespace recondb::testing
