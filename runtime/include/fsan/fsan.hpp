// fibersan: Go-style fibers, channels and select for C++, with a concurrency
// sanitizer built in. This umbrella header is the whole public API (API.md).
#pragma once

#include <fsan/chan.hpp>
#include <fsan/detail/config.hpp>
#include <fsan/fiber.hpp>
#include <fsan/finding.hpp>
#include <fsan/options.hpp>
#include <fsan/run.hpp>
#include <fsan/select.hpp>
#include <fsan/time.hpp>
