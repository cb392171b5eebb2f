// Compiler helpers shared by the public headers and the runtime: branch hints,
// inlining control and Clang thread-safety annotations (no-ops elsewhere).
#pragma once

#define FSAN_LIKELY(x) __builtin_expect(!!(x), 1)
#define FSAN_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FSAN_NOINLINE __attribute__((noinline))
#define FSAN_ALWAYS_INLINE inline __attribute__((always_inline))
#define FSAN_COLD __attribute__((cold, noinline))

#if defined(__clang__)
#define FSAN_TSA(x) __attribute__((x))
#else
#define FSAN_TSA(x)
#endif
#define FSAN_CAPABILITY(x) FSAN_TSA(capability(x))
#define FSAN_SCOPED_CAPABILITY FSAN_TSA(scoped_lockable)
#define FSAN_GUARDED_BY(x) FSAN_TSA(guarded_by(x))
#define FSAN_PT_GUARDED_BY(x) FSAN_TSA(pt_guarded_by(x))
#define FSAN_REQUIRES(...) FSAN_TSA(requires_capability(__VA_ARGS__))
#define FSAN_ACQUIRE(...) FSAN_TSA(acquire_capability(__VA_ARGS__))
#define FSAN_RELEASE(...) FSAN_TSA(release_capability(__VA_ARGS__))
#define FSAN_TRY_ACQUIRE(...) FSAN_TSA(try_acquire_capability(__VA_ARGS__))
#define FSAN_ACQUIRE_SHARED(...) FSAN_TSA(acquire_shared_capability(__VA_ARGS__))
#define FSAN_RELEASE_SHARED(...) FSAN_TSA(release_shared_capability(__VA_ARGS__))
#define FSAN_TRY_ACQUIRE_SHARED(...) FSAN_TSA(try_acquire_shared_capability(__VA_ARGS__))
#define FSAN_RETURN_CAPABILITY(x) FSAN_TSA(lock_returned(x))
#define FSAN_EXCLUDES(...) FSAN_TSA(locks_excluded(__VA_ARGS__))
#define FSAN_NO_THREAD_SAFETY_ANALYSIS FSAN_TSA(no_thread_safety_analysis)

// FSAN_NO_SANITIZE: on a user function, the instrumentation pass leaves it alone.
#define FSAN_NO_SANITIZE __attribute__((annotate("fsan_no_sanitize"), noinline))
