// fibersan: Go-style fibers, channels and select for C++, with a concurrency
// sanitizer built in. This umbrella header is the whole public API (API.md).
#pragma once

#include <fsan/annotations.hpp>
#include <fsan/chan.hpp>
#include <fsan/cond.hpp>
#include <fsan/context.hpp>
#include <fsan/detail/config.hpp>
#include <fsan/fiber.hpp>
#include <fsan/finding.hpp>
#include <fsan/group.hpp>
#include <fsan/mutex.hpp>
#include <fsan/once.hpp>
#include <fsan/options.hpp>
#include <fsan/run.hpp>
#include <fsan/rwmutex.hpp>
#include <fsan/select.hpp>
#include <fsan/time.hpp>
#include <fsan/timer.hpp>
#include <fsan/waitgroup.hpp>
