/* A library with neither unwind tables nor frame pointers, for the --native bad-input tests:
 * built with -fno-asynchronous-unwind-tables -fno-unwind-tables -fomit-frame-pointer, and its
 * .eh_frame removed. A stack through it cannot be unwound; hotext.dl_call loads it with dlopen,
 * calls noinfo_work and, when asked, unloads it again (a module mapped and unmapped mid-record). */
volatile double noinfo_sink;

__attribute__((noinline)) static double noinfo_inner(long n) {
    double x = 0;
    for (long i = 0; i < n; i++) {
        x += (double)i * 0.25;
        noinfo_sink = x;
    }
    return x;
}

double noinfo_work(long n) {
    return noinfo_inner(n) + 1;
}
