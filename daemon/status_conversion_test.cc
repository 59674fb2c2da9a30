#include "daemon/status_conversion.h"

#include "gtest/gtest.h"

namespace recondb::daemon {
namespace {

// Every canonical code, OK excluded.
constexpr int kFirstErrorCode = 1;
constexpr int kLastCode = 16;

TEST(StatusConversionTest, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(StatusConversionTest, EveryCodeMapsToTheSameCodeWithItsMessage) {
  for (int code = kFirstErrorCode; code <= kLastCode; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), "table \"todos\": bad");
    const grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), code) << in;
    EXPECT_EQ(out.error_message(), "table \"todos\": bad") << in;
  }
}

TEST(StatusConversionTest, RoundTripKeepsCodeAndMessage) {
  for (int code = kFirstErrorCode; code <= kLastCode; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), "record \"r1\"");
    EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(in)), in);
  }
}

TEST(StatusConversionTest, NamedCodesMatch) {
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::AlreadyExistsError("x")).error_code(),
            grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(ToGrpcStatus(absl::AbortedError("x")).error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("x")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(ToGrpcStatus(absl::UnavailableError("x")).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ToGrpcStatus(absl::InternalError("x")).error_code(), grpc::StatusCode::INTERNAL);
}

TEST(StatusConversionTest, UndefinedCodesBecomeUnknown) {
  const absl::Status odd(static_cast<absl::StatusCode>(42), "odd");
  EXPECT_EQ(ToGrpcStatus(odd).error_code(), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(ToGrpcStatus(odd).error_message(), "odd");
  const grpc::Status odd_grpc(static_cast<grpc::StatusCode>(42), "odd");
  EXPECT_EQ(FromGrpcStatus(odd_grpc), absl::UnknownError("odd"));
}

}  // namespace
}  // namespace recondb::daemon
