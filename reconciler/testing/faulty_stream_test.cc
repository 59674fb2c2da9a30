// The faulty stream does what its script or seed says, and Cancel always
// unblocks it.
#include "reconciler/testing/faulty_stream.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reconciler/pipe_stream.h"

namespace recondb::reconciler::testing {
namespace {

v1::ReplicateMessage Ack(int64_t batch) {
  v1::ReplicateMessage m;
  m.mutable_ack()->set_batch(batch);
  m.mutable_ack()->set_checkpoint(batch * 10);
  return m;
}

// Writes acks 1..n through a FaultyStream over a pipe, half-closes, and
// returns the batches the other end read.
std::vector<int64_t> RoundTrip(FaultyStreamOptions options, int n, FaultyStreamStats* stats = nullptr) {
  PipeEnds pipe = MakePipe(1024);
  FaultyStream faulty(pipe.first.get(), std::move(options));
  for (int i = 1; i <= n; ++i) {
    if (!faulty.Write(Ack(i))) break;
  }
  faulty.WritesDone();
  std::vector<int64_t> read;
  v1::ReplicateMessage m;
  while (pipe.second->Read(&m)) read.push_back(m.has_ack() ? m.ack().batch() : -1);
  if (stats != nullptr) *stats = faulty.stats();
  return read;
}

TEST(FaultyStreamTest, PassesEverythingWithoutFaults) {
  EXPECT_THAT(RoundTrip({}, 5), ::testing::ElementsAre(1, 2, 3, 4, 5));
}

TEST(FaultyStreamTest, ScriptedDropDuplicateAndBreak) {
  FaultyStreamOptions options;
  options.script = {{0, 1, StreamFault::kDrop}, {0, 2, StreamFault::kDuplicate}};
  EXPECT_THAT(RoundTrip(options, 4), ::testing::ElementsAre(1, 3, 3, 4));
  options.script = {{0, 2, StreamFault::kBreak}};
  FaultyStreamStats stats;
  // A broken pipe delivers nothing more to its reader.
  EXPECT_THAT(RoundTrip(options, 4, &stats), ::testing::IsEmpty());
  EXPECT_TRUE(stats.broken);
  EXPECT_EQ(stats.delivered, 2);
}

TEST(FaultyStreamTest, ScriptCountsPerMessageKind) {
  FaultyStreamOptions options;
  // The second Ack, whatever was written between.
  options.script = {{v1::ReplicateMessage::kAck, 1, StreamFault::kDrop}};
  PipeEnds pipe = MakePipe(64);
  FaultyStream faulty(pipe.first.get(), options);
  v1::ReplicateMessage want;
  want.mutable_want()->set_batch(7);
  ASSERT_TRUE(faulty.Write(Ack(1)));
  ASSERT_TRUE(faulty.Write(want));
  ASSERT_TRUE(faulty.Write(Ack(2)));
  ASSERT_TRUE(faulty.Write(Ack(3)));
  faulty.WritesDone();
  std::vector<std::string> read;
  v1::ReplicateMessage m;
  while (pipe.second->Read(&m)) read.push_back(m.ShortDebugString());
  EXPECT_THAT(read, ::testing::ElementsAre(Ack(1).ShortDebugString(), want.ShortDebugString(),
                                           Ack(3).ShortDebugString()));
}

TEST(FaultyStreamTest, BreakAfterN) {
  FaultyStreamOptions options;
  options.break_after = 3;
  FaultyStreamStats stats;
  RoundTrip(options, 10, &stats);
  EXPECT_TRUE(stats.broken);
  EXPECT_EQ(stats.delivered, 3);
  EXPECT_EQ(stats.written, 4);  // The fourth write broke it.
}

TEST(FaultyStreamTest, DelayWaitsOnTheInjectedClockNotTheWallClock) {
  FakeClock clock(1000);
  FaultyStreamOptions options;
  options.clock = &clock;
  options.sleep = [&](int64_t micros) { clock.Advance(micros); };
  options.delay_micros = 5 * 1000 * 1000;  // 5 s of fake time: instant.
  options.script = {{0, 0, StreamFault::kDelay}, {0, 1, StreamFault::kDelay}};
  FaultyStreamStats stats;
  EXPECT_THAT(RoundTrip(options, 3, &stats), ::testing::ElementsAre(1, 2, 3));
  EXPECT_EQ(stats.delayed, 2);
  EXPECT_EQ(clock.NowMicros(), 1000 + 2 * options.delay_micros);
}

TEST(FaultyStreamTest, CorruptionEitherParsesDifferentlyOrBreaks) {
  for (uint64_t seed = 0; seed < 50; ++seed) {
    std::mt19937_64 rng(seed);
    v1::ReplicateMessage m = Ack(123456);
    const std::string before = m.SerializeAsString();
    if (CorruptMessage(&m, rng)) {
      // Still a message (maybe another kind, maybe empty): the session must judge it.
      SUCCEED();
    } else {
      EXPECT_EQ(m.SerializeAsString(), before) << "seed " << seed;
    }
  }
}

TEST(FaultyStreamTest, StalledWriteBlocksUntilCancel) {
  PipeEnds pipe = MakePipe(64);
  FaultyStreamOptions options;
  options.script = {{0, 1, StreamFault::kStall}};
  FaultyStream faulty(pipe.first.get(), options);
  ASSERT_TRUE(faulty.Write(Ack(1)));
  bool result = true;
  std::thread writer([&] { result = faulty.Write(Ack(2)); });
  ASSERT_TRUE(faulty.AwaitBlockedWrites(1, 10 * 1000 * 1000));
  faulty.Cancel();
  writer.join();
  EXPECT_FALSE(result);
  EXPECT_FALSE(faulty.Write(Ack(3)));  // Later writes fail at once.
  EXPECT_TRUE(faulty.stats().stalled);
}

TEST(FaultyStreamTest, CancelUnblocksAReadToo) {
  PipeEnds pipe = MakePipe(4);
  FaultyStream faulty(pipe.first.get(), {});
  bool result = true;
  std::thread reader([&] {
    v1::ReplicateMessage m;
    result = faulty.Read(&m);
  });
  faulty.Cancel();
  reader.join();
  EXPECT_FALSE(result);
}

TEST(FaultyStreamTest, RandomFaultsAreAFunctionOfTheSeed) {
  FaultyStreamOptions options;
  options.seed = 42;
  options.drop = 0.2;
  options.duplicate = 0.2;
  options.delay = 0.2;
  const auto first = RoundTrip(options, 200);
  EXPECT_EQ(RoundTrip(options, 200), first);
  options.seed = 43;
  EXPECT_NE(RoundTrip(options, 200), first);
}

}  // namespace
}  // namespace recondb::reconciler::testing
