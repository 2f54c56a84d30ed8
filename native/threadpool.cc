// One persistent pool of std::threads. Workers spin briefly for new work (kernels arrive in
// quick succession during training) and then sleep on a condition variable.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#if defined(_MSC_VER)
#include <malloc.h>
#endif
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace tsr {
namespace {

struct Pool {
  std::vector<std::thread> workers;
  int size = 1;  // threads including the caller
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<uint64_t> generation{0};
  // (generation:24 | tasks:20 | next index:20): a worker only takes a task of the job it saw.
  std::atomic<uint64_t> work{0};
  std::atomic<int> pending{0};
  std::atomic<int> sleepers{0};
  std::atomic<bool> stop{false};
  void (*fn)(void*, int) = nullptr;
  void* ctx = nullptr;
  std::mutex run_mu;  // one parallel region at a time (e.g. calls from worker_threads)

  void worker_loop() {
    flush_denormals_forever();
    uint64_t seen = generation.load(std::memory_order_acquire);
    for (;;) {
      // spin a little, then block
      int spins = 0;
      while (generation.load(std::memory_order_acquire) == seen) {
        if (++spins < 4000) {
#if defined(__x86_64__)
          __builtin_ia32_pause();
#endif
          continue;
        }
        std::unique_lock<std::mutex> lk(mu);
        sleepers.fetch_add(1);
        cv.wait(lk, [&] { return stop || generation.load(std::memory_order_acquire) != seen; });
        sleepers.fetch_sub(1);
        break;
      }
      if (stop) return;
      seen = generation.load(std::memory_order_acquire);
      drain(seen);
    }
  }

  static constexpr uint64_t kMask20 = (1u << 20) - 1;

  void drain(uint64_t gen) {
    uint64_t cur = work.load(std::memory_order_acquire);
    for (;;) {
      if ((cur >> 40) != (gen & 0xffffff)) return;
      uint64_t tasks = (cur >> 20) & kMask20, idx = cur & kMask20;
      if (idx >= tasks) return;
      if (!work.compare_exchange_weak(cur, cur + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      fn(ctx, int(idx));
      pending.fetch_sub(1, std::memory_order_acq_rel);
      cur = work.load(std::memory_order_acquire);
    }
  }

  void start(int n) {
    shutdown();
    stop = false;
    size = std::max(1, n);
    for (int i = 1; i < size; i++) workers.emplace_back([this] { worker_loop(); });
  }

  void shutdown() {
    {
      std::lock_guard<std::mutex> lk(mu);
      stop = true;
      generation.fetch_add(1, std::memory_order_acq_rel);
    }
    cv.notify_all();
    for (auto& w : workers) w.join();
    workers.clear();
    size = 1;
  }

  void run(int n, void (*f)(void*, int), void* c) {
    std::unique_lock<std::mutex> guard(run_mu, std::try_to_lock);
    if (!guard.owns_lock() || size <= 1) {
      for (int t = 0; t < n; t++) f(c, t);
      return;
    }
    uint64_t gen;
    {
      std::lock_guard<std::mutex> lk(mu);
      fn = f;
      ctx = c;
      pending.store(n, std::memory_order_release);
      gen = generation.load(std::memory_order_relaxed) + 1;
      work.store(((gen & 0xffffff) << 40) | (uint64_t(n) << 20), std::memory_order_release);
      generation.store(gen, std::memory_order_release);
    }
    if (sleepers.load() > 0) cv.notify_all();
    drain(gen);
    for (int spins = 0; pending.load(std::memory_order_acquire) > 0; spins++) {
      if (spins < 4000) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
      } else {
        std::this_thread::yield();  // a worker was descheduled (oversubscribed machine)
      }
    }
  }
};

int initial_threads() {
  const char* env = std::getenv("TESSERA_NUM_THREADS");
  if (env && *env) {
    int v = std::atoi(env);
    if (v > 0) return std::min(v, 256);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : int(std::min(hc, 256u));
}

Pool& pool() {
  // Leaked on purpose: joining threads from a static destructor at process exit can deadlock.
  static Pool* p = [] {
    Pool* q = new Pool();
    q->start(initial_threads());
    return q;
  }();
  return *p;
}

}  // namespace

int num_threads() { return pool().size; }

void set_num_threads(int n) {
  n = std::max(1, std::min(n, 256));
  Pool& p = pool();
  std::lock_guard<std::mutex> guard(p.run_mu);
  if (n != p.size) p.start(n);
}

void run_tasks(int tasks, void (*fn)(void*, int), void* ctx) {
  if (tasks <= 0) return;
  if (tasks == 1 || tasks > (1 << 20) - 1) {
    for (int t = 0; t < tasks; t++) fn(ctx, t);
    return;
  }
  pool().run(tasks, fn, ctx);
}

// ---- scratch -------------------------------------------------------------------------------
namespace {
void* aligned_malloc(size_t bytes) {
#if defined(_MSC_VER)
  return _aligned_malloc(bytes, 64);
#else
  void* p = nullptr;
  return posix_memalign(&p, 64, bytes) == 0 ? p : nullptr;
#endif
}
void aligned_free(void* p) {
#if defined(_MSC_VER)
  _aligned_free(p);
#else
  std::free(p);
#endif
}
struct Scratch {
  float* ptr[8] = {};
  size_t cap[8] = {};
  ~Scratch() {
    for (auto p : ptr) aligned_free(p);
  }
};
thread_local Scratch tl_scratch;
}  // namespace

float* scratch(int slot, size_t floats) {
  Scratch& s = tl_scratch;
  if (s.cap[slot] < floats) {
    aligned_free(s.ptr[slot]);
    s.ptr[slot] = nullptr;
    s.cap[slot] = 0;
    size_t bytes = ((floats * sizeof(float)) + 63) / 64 * 64 + 64;
    void* p = aligned_malloc(bytes);
    if (!p) throw std::bad_alloc();
    s.ptr[slot] = static_cast<float*>(p);
    s.cap[slot] = floats;
  }
  return s.ptr[slot];
}

}  // namespace tsr
