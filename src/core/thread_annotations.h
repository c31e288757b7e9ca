// Thread-safety annotations that clang's -Wthread-safety checks at compile
// time (`make lint`); they expand to nothing on other compilers.
//
//   class Pool {
//     errand::Mutex mu_;
//     std::vector<Conn> idle_ GUARDED_BY(mu_);
//     void take() EXCLUDES(mu_);        // takes mu_ itself
//     void trim_locked() REQUIRES(mu_); // caller holds mu_
//   };
//
// std::mutex carries no annotations in libstdc++, so guard members with
// errand::Mutex / errand::SharedMutex (src/core/mutex.h), which do.
// Reference: https://clang.llvm.org/docs/ThreadSafetyAnalysis.html
#pragma once

#if defined(__clang__)
#define ERRAND_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define ERRAND_THREAD_ANNOTATION(x)
#endif

/// A class that is a lock (a mutex, a reader-writer lock).
#define CAPABILITY(x) ERRAND_THREAD_ANNOTATION(capability(x))
/// A RAII class that holds a capability for its lifetime (MutexLock).
#define SCOPED_CAPABILITY ERRAND_THREAD_ANNOTATION(scoped_lockable)

/// The member may be read or written only while holding `x`.
#define GUARDED_BY(x) ERRAND_THREAD_ANNOTATION(guarded_by(x))
/// The pointee of this pointer member may be used only while holding `x`.
#define PT_GUARDED_BY(x) ERRAND_THREAD_ANNOTATION(pt_guarded_by(x))

/// Lock order: this mutex is taken after / before the named ones.
#define ACQUIRED_AFTER(...) ERRAND_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define ACQUIRED_BEFORE(...) ERRAND_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))

/// The caller must hold the capability (exclusively / at least shared).
#define REQUIRES(...) ERRAND_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) ERRAND_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))

/// The function takes (and returns holding) / releases the capability.
#define ACQUIRE(...) ERRAND_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) ERRAND_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) ERRAND_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) ERRAND_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))
#define RELEASE_GENERIC(...) ERRAND_THREAD_ANNOTATION(release_generic_capability(__VA_ARGS__))

/// Takes the capability when it returns `b` (the first argument).
#define TRY_ACQUIRE(...) ERRAND_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define TRY_ACQUIRE_SHARED(...) ERRAND_THREAD_ANNOTATION(try_acquire_shared_capability(__VA_ARGS__))

/// The caller must NOT hold the capability (the function takes it itself).
#define EXCLUDES(...) ERRAND_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

/// Tells the analysis the capability is held here (checked at run time, or known).
#define ASSERT_CAPABILITY(x) ERRAND_THREAD_ANNOTATION(assert_capability(x))
#define ASSERT_SHARED_CAPABILITY(x) ERRAND_THREAD_ANNOTATION(assert_shared_capability(x))

/// The function returns a reference to the capability `x`.
#define RETURN_CAPABILITY(x) ERRAND_THREAD_ANNOTATION(lock_returned(x))

/// Opts one function out of the analysis: say why in a comment next to it.
#define NO_THREAD_SAFETY_ANALYSIS ERRAND_THREAD_ANNOTATION(no_thread_safety_analysis)
