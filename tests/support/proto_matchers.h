// gMock matchers for protobuf messages.
//   EXPECT_THAT(got, EqualsProto(want));
#ifndef RECONDB_TESTS_SUPPORT_PROTO_MATCHERS_H_
#define RECONDB_TESTS_SUPPORT_PROTO_MATCHERS_H_

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"

namespace recondb::testing {

MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  std::string diff;
  google::protobuf::util::MessageDifferencer d;
  d.ReportDifferencesToString(&diff);
  if (d.Compare(expected, arg)) return true;
  *result_listener << "which is " << arg.ShortDebugString() << "\ndifferences:\n" << diff;
  return false;
}

}  // namespace recondb::testing

#endif  // RECONDB_TESTS_SUPPORT_PROTO_MATCHERS_H_
