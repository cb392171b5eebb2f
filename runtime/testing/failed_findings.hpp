// Findings that already failed the current test (shared by FSAN_TEST's
// runner and expect_no_leaks, so a leak fails its test once), and the name
// of that test.
#pragma once

#include <string>

namespace fsan::testing::detail {

// note_failed_finding: the finding with this id has failed the test already.
void note_failed_finding(const std::string& id);

// current_test_name: "Suite.Name" of the gtest test running, or "".
std::string current_test_name();

}  // namespace fsan::testing::detail
