/*
 * Benchmark floor: the CPU a thread costs that wakes up RATE times a second and does nothing else.
 *
 * usage: wake RATE SECONDS
 * Prints one JSON line: {"ticks": N, "cpuUs": X}, X being the thread's own CPU over the loop, read
 * as the sampler reads its "Profiler CPU" (getrusage RUSAGE_THREAD). The loop keeps the sampler's
 * schedule: timer slack 1 ns, a relative sleep to the next tick, late ticks skipped. On a virtual
 * machine a wake-up alone can cost more than a whole sample's work, and it changes from hour to
 * hour: the bench runs this beside each row so that a row's per-sample CPU can be read against it.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double thread_cpu_us(void) {
  struct rusage u;
  getrusage(RUSAGE_THREAD, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e6 + u.ru_utime.tv_usec + u.ru_stime.tv_usec;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: wake RATE SECONDS\n");
    return 2;
  }
  double rate = atof(argv[1]), seconds = atof(argv[2]);
  if (!(rate > 0) || !(seconds > 0)) {
    fprintf(stderr, "wake: RATE and SECONDS must be positive\n");
    return 2;
  }
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  long long interval = (long long)(1e9 / rate);
  long long start = now_ns(), end = start + (long long)(seconds * 1e9), next = start;
  long ticks = 0;
  double cpu_start = thread_cpu_us();
  for (;;) {
    long long now = now_ns();
    if (now >= end) break;
    if (now < next) {
      long long left = next - now;
      struct timespec d = {left / 1000000000LL, left % 1000000000LL};
      nanosleep(&d, NULL);
      continue;
    }
    next += interval * ((now - next) / interval + 1);
    ticks++;
  }
  printf("{\"ticks\": %ld, \"cpuUs\": %.1f}\n", ticks, thread_cpu_us() - cpu_start);
  return 0;
}
