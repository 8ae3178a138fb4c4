/*
 * fuzz.h - what every libFuzzer target here shares: the entry point's
 * prototype, and CHECK, which names the failed property and aborts even
 * under NDEBUG, so the fuzzer always reports it.
 */
#ifndef QUN_FUZZ_FUZZ_H
#define QUN_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
