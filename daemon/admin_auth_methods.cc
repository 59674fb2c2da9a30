// The Admin service's principal methods: thin adapters over the Authorizer's
// management calls (auth/authorizer.h), each for admins only except WhoAmI.
#include "auth/authorizer.h"
#include "common/status_macros.h"
#include "daemon/admin_service.h"
#include "daemon/status_conversion.h"

namespace recondb::daemon {
namespace {

// Runs `call` (returning absl::StatusOr<T>) and stores its value in
// `*response`, or returns its error.
template <typename T, typename Call>
absl::Status Into(T* response, Call call) {
  ASSIGN_OR_RETURN(*response, call());
  return absl::OkStatus();
}

}  // namespace

#define RECONDB_ADMIN_CALL(method, body)                                    \
  do {                                                                      \
    absl::Status recondb_status_ = RequireAdmin(*context, method).status(); \
    if (recondb_status_.ok()) recondb_status_ = (body);                     \
    return Answer(method, recondb_status_);                                 \
  } while (0)

grpc::Status AdminService::CreatePrincipal(grpc::ServerContext* context,
                                           const v1::CreatePrincipalRequest* request,
                                           v1::PrincipalInfo* response) {
  RECONDB_ADMIN_CALL("CreatePrincipal", Into(response, [&] {
                       return options_.authorizer->CreatePrincipal(*request);
                     }));
}

grpc::Status AdminService::DeletePrincipal(grpc::ServerContext* context,
                                           const v1::DeletePrincipalRequest* request,
                                           v1::DeletePrincipalResponse* response) {
  RECONDB_ADMIN_CALL("DeletePrincipal", options_.authorizer->DeletePrincipal(request->name()));
}

grpc::Status AdminService::ListPrincipals(grpc::ServerContext* context,
                                          const v1::ListPrincipalsRequest* request,
                                          v1::ListPrincipalsResponse* response) {
  RECONDB_ADMIN_CALL("ListPrincipals", [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<v1::PrincipalInfo> principals,
                     options_.authorizer->ListPrincipals());
    for (v1::PrincipalInfo& p : principals) *response->add_principals() = std::move(p);
    return absl::OkStatus();
  }());
}

grpc::Status AdminService::IssueToken(grpc::ServerContext* context,
                                      const v1::IssueTokenRequest* request,
                                      v1::IssueTokenResponse* response) {
  RECONDB_ADMIN_CALL("IssueToken", Into(response, [&] {
                       return options_.authorizer->IssueToken(request->principal());
                     }));
}

grpc::Status AdminService::RevokeToken(grpc::ServerContext* context,
                                       const v1::RevokeTokenRequest* request,
                                       v1::RevokeTokenResponse* response) {
  RECONDB_ADMIN_CALL("RevokeToken",
                     options_.authorizer->RevokeToken(request->principal(), request->token_id()));
}

grpc::Status AdminService::Grant(grpc::ServerContext* context, const v1::GrantRequest* request,
                                 v1::PrincipalInfo* response) {
  RECONDB_ADMIN_CALL("Grant", Into(response, [&] { return options_.authorizer->Grant(*request); }));
}

grpc::Status AdminService::Revoke(grpc::ServerContext* context, const v1::RevokeRequest* request,
                                  v1::PrincipalInfo* response) {
  RECONDB_ADMIN_CALL("Revoke",
                     Into(response, [&] { return options_.authorizer->Revoke(*request); }));
}

grpc::Status AdminService::SetCertificateNames(grpc::ServerContext* context,
                                               const v1::SetCertificateNamesRequest* request,
                                               v1::PrincipalInfo* response) {
  RECONDB_ADMIN_CALL("SetCertificateNames", Into(response, [&] {
                       return options_.authorizer->SetCertificateNames(*request);
                     }));
}

grpc::Status AdminService::WhoAmI(grpc::ServerContext* context, const v1::WhoAmIRequest* request,
                                  v1::PrincipalInfo* response) {
  absl::StatusOr<std::shared_ptr<const auth::Principal>> principal =
      options_.authorizer->Authenticate(*context);
  if (!principal.ok()) return Answer("WhoAmI", principal.status());
  *response = options_.authorizer->Describe(**principal);
  return grpc::Status::OK;
}

}  // namespace recondb::daemon
