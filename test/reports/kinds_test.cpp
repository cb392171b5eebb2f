// Kind names: every kind round-trips through its schema name; others fail.
#include "kinds.hpp"

#include <gtest/gtest.h>

namespace fsan::reports {
namespace {

TEST(Kinds, EveryKindRoundTripsThroughItsName) {
  for (FindingKind k : all_kinds) {
    std::optional<FindingKind> back = parse_kind(to_string(k));
    ASSERT_TRUE(back.has_value()) << to_string(k);
    EXPECT_EQ(*back, k);
  }
  EXPECT_EQ(parse_kind("partial_deadlock"), FindingKind::partial_deadlock);
}

TEST(Kinds, UnknownNamesAreRejected) {
  EXPECT_FALSE(parse_kind("").has_value());
  EXPECT_FALSE(parse_kind("data-race").has_value());
  EXPECT_FALSE(parse_kind("DATA_RACE").has_value());
  EXPECT_FALSE(parse_kind("goroutine_leak").has_value());
}

}  // namespace
}  // namespace fsan::reports
