// A million fibers alive at once (the capacity requirement): all
// park on one channel, then are released by close. Stacks are 256 KiB
// reserved each (256 GiB of address space) but only their touched pages are
// committed, and guard pages must not exhaust vm.max_map_count (65530).
#include <gtest/gtest.h>

#include <fsan/fsan.hpp>

TEST(MillionFibers, AMillionFibersCanBeAliveAtOnce) {
  constexpr int kFibers = 1'000'000;
  std::size_t peak = 0;
  long sum = 0;
  int rc = fsan::run([&] {
    auto gate = fsan::make_chan<fsan::Unit>();
    auto done = fsan::make_chan<int>(1024);
    for (int i = 0; i < kFibers; ++i)
      fsan::go([gate, done] {
        gate.recv();
        done.send(1);
      });
    peak = fsan::num_fibers();
    gate.close();
    for (int i = 0; i < kFibers; ++i) sum += *done.recv();
  });
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(peak, static_cast<std::size_t>(kFibers) + 1);
  EXPECT_EQ(sum, kFibers);
}
