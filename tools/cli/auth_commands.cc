// `recondb auth ...`: principals, tokens and grants through the Admin
// service's principal methods (proto/recondb/v1/admin.proto), and two offline
// helpers for writing an --auth_file (hash-token, new-token).
#include <iostream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "auth/token.h"
#include "grpcpp/client_context.h"
#include "tools/cli/cli.h"
#include "tools/cli/output.h"

namespace recondb::cli {
namespace {

std::string FormatTime(const google::protobuf::Timestamp& ts) {
  if (ts.seconds() == 0 && ts.nanos() == 0) return "-";
  const absl::Time t = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string PermissionWord(int permission) {
  switch (permission) {
    case v1::PERMISSION_READ:
      return "read";
    case v1::PERMISSION_WRITE:
      return "write";
    case v1::PERMISSION_PULL:
      return "pull";
    case v1::PERMISSION_PUSH:
      return "push";
    default:
      return absl::StrCat("permission_", permission);
  }
}

std::string GrantsText(const v1::PrincipalInfo& p) {
  std::vector<std::string> parts;
  if (p.admin()) parts.push_back("admin");
  for (const v1::TableGrant& g : p.grants()) {
    std::vector<std::string> words;
    for (int permission : g.permissions()) words.push_back(PermissionWord(permission));
    parts.push_back(absl::StrCat(absl::StrJoin(words, ","), " on ", g.table_pattern()));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, "; ");
}

void PrintPrincipal(Context& ctx, const v1::PrincipalInfo& p) {
  if (ctx.json) {
    PrintJson(*ctx.out, p);
    return;
  }
  TextTable out({"principal:", p.name()});
  out.AddRow({"grants:", GrantsText(p)});
  if (!p.certificate_names().empty()) {
    out.AddRow({"certificate names:", absl::StrJoin(p.certificate_names(), ", ")});
  }
  for (const v1::TokenInfo& t : p.tokens()) {
    out.AddRow({"token:", absl::StrCat(t.id(), " (created ", FormatTime(t.create_time()), ")")});
  }
  if (!p.node_ids().empty()) out.AddRow({"node ids:", absl::StrJoin(p.node_ids(), ", ")});
  if (!p.source_file().empty()) out.AddRow({"from file:", p.source_file()});
  out.Print(*ctx.out);
}

// Answers `call` (a grpc::Status of one Admin method filling `response`),
// printing the principal it returns.
template <typename Call>
int PrincipalCall(Context& ctx, const char* method, Call call) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::PrincipalInfo response;
  const grpc::Status s = call(rpc, response);
  if (!s.ok()) return RpcError(ctx, s, method);
  PrintPrincipal(ctx, response);
  return kExitOk;
}

int CreatePrincipal(Context& ctx) {
  v1::CreatePrincipalRequest request;
  request.set_name(ctx.args.positional()[0]);
  request.set_admin(ctx.args.Has("admin"));
  for (const std::string& name : ctx.args.GetAll("certificate-name")) {
    request.add_certificate_names(name);
  }
  return PrincipalCall(ctx, "CreatePrincipal", [&](grpc::ClientContext& rpc, v1::PrincipalInfo& r) {
    return ctx.Admin().CreatePrincipal(&rpc, request, &r);
  });
}

int DeletePrincipal(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::DeletePrincipalRequest request;
  request.set_name(ctx.args.positional()[0]);
  v1::DeletePrincipalResponse response;
  const grpc::Status s = ctx.Admin().DeletePrincipal(&rpc, request, &response);
  if (!s.ok()) return RpcError(ctx, s, "DeletePrincipal");
  if (!ctx.json) *ctx.out << "deleted principal " << request.name() << "\n";
  return kExitOk;
}

int ListPrincipals(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::ListPrincipalsResponse response;
  const grpc::Status s = ctx.Admin().ListPrincipals(&rpc, v1::ListPrincipalsRequest(), &response);
  if (!s.ok()) return RpcError(ctx, s, "ListPrincipals");
  if (ctx.json) {
    for (const v1::PrincipalInfo& p : response.principals()) PrintJson(*ctx.out, p);
    return kExitOk;
  }
  TextTable out({"PRINCIPAL", "GRANTS", "TOKENS", "CERTIFICATE NAMES", "SOURCE"});
  for (const v1::PrincipalInfo& p : response.principals()) {
    std::vector<std::string> tokens;
    for (const v1::TokenInfo& t : p.tokens()) tokens.push_back(t.id());
    out.AddRow({p.name(), GrantsText(p), tokens.empty() ? "-" : absl::StrJoin(tokens, ","),
                p.certificate_names().empty() ? "-" : absl::StrJoin(p.certificate_names(), ","),
                p.source_file().empty() ? "store" : p.source_file()});
  }
  out.Print(*ctx.out);
  return kExitOk;
}

int IssueToken(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::IssueTokenRequest request;
  request.set_principal(ctx.args.positional()[0]);
  v1::IssueTokenResponse response;
  const grpc::Status s = ctx.Admin().IssueToken(&rpc, request, &response);
  if (!s.ok()) return RpcError(ctx, s, "IssueToken");
  if (ctx.json) {
    PrintJson(*ctx.out, response);
    return kExitOk;
  }
  // The token alone on stdout, for `TOKEN=$(recondb auth token issue x)`.
  *ctx.out << response.token() << "\n";
  *ctx.err << "recondb: token " << response.info().id() << " issued for " << request.principal()
           << "; it is shown only this once\n";
  return kExitOk;
}

int RevokeToken(Context& ctx) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx));
  v1::RevokeTokenRequest request;
  request.set_principal(ctx.args.positional()[0]);
  request.set_token_id(ctx.args.positional()[1]);
  v1::RevokeTokenResponse response;
  const grpc::Status s = ctx.Admin().RevokeToken(&rpc, request, &response);
  if (!s.ok()) return RpcError(ctx, s, "RevokeToken");
  if (!ctx.json) {
    *ctx.out << "revoked token " << request.token_id() << " of " << request.principal() << "\n";
  }
  return kExitOk;
}

// PERMISSIONS (read,write,pull,push,admin) and PATTERN into a Grant or
// Revoke request; false after printing the usage error.
template <typename Request>
bool FillGrant(Context& ctx, Request& request, int* exit) {
  request.set_principal(ctx.args.positional()[0]);
  for (absl::string_view word : absl::StrSplit(ctx.args.positional()[1], ',', absl::SkipEmpty())) {
    const std::string w = absl::AsciiStrToLower(absl::StripAsciiWhitespace(word));
    if (w == "read") {
      request.add_permissions(v1::PERMISSION_READ);
    } else if (w == "write") {
      request.add_permissions(v1::PERMISSION_WRITE);
    } else if (w == "pull") {
      request.add_permissions(v1::PERMISSION_PULL);
    } else if (w == "push") {
      request.add_permissions(v1::PERMISSION_PUSH);
    } else if (w == "admin") {
      request.set_admin(true);
    } else {
      *exit = UsageError(ctx, "unknown permission \"" + w +
                                  "\" (read, write, pull, push, admin; comma-separated)");
      return false;
    }
  }
  if (ctx.args.positional().size() > 2) {
    request.set_table_pattern(ctx.args.positional()[2]);
  } else if (request.permissions_size() > 0) {
    *exit = UsageError(ctx, "missing TABLE_PATTERN (a table, prefix*, or '*')");
    return false;
  }
  return true;
}

int Grant(Context& ctx) {
  v1::GrantRequest request;
  int exit = kExitOk;
  if (!FillGrant(ctx, request, &exit)) return exit;
  return PrincipalCall(ctx, "Grant", [&](grpc::ClientContext& rpc, v1::PrincipalInfo& r) {
    return ctx.Admin().Grant(&rpc, request, &r);
  });
}

int Revoke(Context& ctx) {
  v1::RevokeRequest request;
  int exit = kExitOk;
  if (!FillGrant(ctx, request, &exit)) return exit;
  return PrincipalCall(ctx, "Revoke", [&](grpc::ClientContext& rpc, v1::PrincipalInfo& r) {
    return ctx.Admin().Revoke(&rpc, request, &r);
  });
}

int SetCertificateNames(Context& ctx) {
  v1::SetCertificateNamesRequest request;
  request.set_principal(ctx.args.positional()[0]);
  for (size_t i = 1; i < ctx.args.positional().size(); ++i) {
    request.add_certificate_names(ctx.args.positional()[i]);
  }
  return PrincipalCall(ctx, "SetCertificateNames",
                       [&](grpc::ClientContext& rpc, v1::PrincipalInfo& r) {
                         return ctx.Admin().SetCertificateNames(&rpc, request, &r);
                       });
}

int WhoAmI(Context& ctx) {
  return PrincipalCall(ctx, "WhoAmI", [&](grpc::ClientContext& rpc, v1::PrincipalInfo& r) {
    return ctx.Admin().WhoAmI(&rpc, v1::WhoAmIRequest(), &r);
  });
}

int HashToken(Context& ctx) {
  std::string line;
  std::getline(std::cin, line);
  const std::string token(absl::StripAsciiWhitespace(line));
  absl::StatusOr<std::string> id = auth::ParseTokenId(token);
  if (!id.ok()) return InputError(ctx, std::string(id.status().message()));
  if (ctx.json) {
    *ctx.out << "{\"id\":\"" << *id << "\",\"sha256\":\"" << auth::HashToken(token) << "\"}\n";
  } else {
    *ctx.out << auth::HashToken(token) << "\n";
  }
  return kExitOk;
}

int NewToken(Context& ctx) {
  absl::StatusOr<auth::NewToken> token = auth::GenerateToken();
  if (!token.ok()) return InputError(ctx, std::string(token.status().message()));
  if (ctx.json) {
    *ctx.out << "{\"token\":\"" << token->token << "\",\"id\":\"" << token->id << "\",\"sha256\":\""
             << token->sha256 << "\"}\n";
    return kExitOk;
  }
  TextTable out({"token:", token->token});
  out.AddRow({"id:", token->id});
  out.AddRow({"sha256:", token->sha256});
  out.Print(*ctx.out);
  return kExitOk;
}

}  // namespace

std::vector<Command> AuthCommands() {
  const char* kAdminOnly =
      "Needs the admin role (docs/security.md, \"Principals, tokens and grants\").";
  return {
      {"auth principals create",
       "NAME",
       "create a principal (no token, no grant yet)",
       absl::StrCat("NAME: [a-z0-9][a-z0-9._-]{0,62}. --admin gives it the admin role;\n"
                    "--certificate-name (repeatable) maps a client certificate whose SAN DNS or\n"
                    "URI entry, or subject CN, equals it to this principal. ",
                    kAdminOnly),
       {{"admin", "", "give the principal the admin role"},
        {"certificate-name", "NAME", "a certificate name of the principal (repeatable)"}},
       1,
       1,
       CreatePrincipal},
      {"auth principals delete",
       "NAME",
       "delete a principal with its tokens and grants (refused from the next call on)",
       kAdminOnly,
       {},
       1,
       1,
       DeletePrincipal},
      {"auth principals list",
       "",
       "list the principals: grants, token ids, certificate names, source",
       absl::StrCat("Never shows a token or its hash. ", kAdminOnly),
       {},
       0,
       0,
       ListPrincipals},
      {"auth token issue",
       "PRINCIPAL",
       "make a new token for a principal and print it (shown only this once)",
       absl::StrCat("Prints the token alone on stdout (its id on stderr):\n"
                    "  export RECONDB_TOKEN=$(recondb auth token issue alice)\n",
                    kAdminOnly),
       {},
       1,
       1,
       IssueToken},
      {"auth token revoke",
       "PRINCIPAL TOKEN_ID",
       "revoke a token by its id (refused from the next call on)",
       absl::StrCat("TOKEN_ID: the 16 hex digits after rdb_ (recondb auth principals list). ",
                    kAdminOnly),
       {},
       2,
       2,
       RevokeToken},
      {"auth grant",
       "PRINCIPAL PERMISSIONS [TABLE_PATTERN]",
       "give permissions on the tables a pattern matches (or the admin role)",
       absl::StrCat("PERMISSIONS: comma-separated read, write, pull, push, admin.\n"
                    "TABLE_PATTERN: a table, a prefix followed by *, or * (quote it in a shell).\n"
                    "  recondb auth grant alice read,write todos\n"
                    "  recondb auth grant laptop-7 pull,push 'case_*'\n"
                    "  recondb auth grant bob admin\n",
                    kAdminOnly),
       {},
       2,
       3,
       Grant},
      {"auth revoke",
       "PRINCIPAL PERMISSIONS [TABLE_PATTERN]",
       "take permissions on a pattern (or the admin role) away",
       absl::StrCat("As auth grant; the pattern must be the one granted. ", kAdminOnly),
       {},
       2,
       3,
       Revoke},
      {"auth certificates set",
       "PRINCIPAL [NAME...]",
       "replace the certificate names mapped to a principal (none: clear them)",
       kAdminOnly,
       {},
       1,
       -1,
       SetCertificateNames},
      {"auth whoami",
       "",
       "show the principal the daemon sees for these credentials",
       "With recondbd --auth=off: the principal anonymous, which may do everything.",
       {},
       0,
       0,
       WhoAmI},
      {"auth hash-token",
       "",
       "read a token from stdin and print its SHA-256, as an --auth_file stores it (offline)",
       "No daemon is called. --json prints {\"id\": ..., \"sha256\": ...}, the shape of a\n"
       "token in an --auth_file.",
       {},
       0,
       0,
       HashToken},
      {"auth new-token",
       "",
       "print a fresh token, its id and its SHA-256 (offline)",
       "No daemon is called: for writing an --auth_file, or an --admin_token_file to mount.",
       {},
       0,
       0,
       NewToken},
  };
}

}  // namespace recondb::cli
